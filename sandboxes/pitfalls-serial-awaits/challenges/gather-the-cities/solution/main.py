# main.py: fixed. Four independent calls, made at once.
import asyncio
import os
import time

import httpx

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake weather service: each answer takes 300 ms
CITIES = ["Lisbon", "Osaka", "Lima", "Oslo"]


async def fetch_weather(client: httpx.AsyncClient, city: str, t0: float) -> dict:
    response = await client.get(f"/weather/{city}?delay=300")
    print(f"{city:<7} answered at {time.perf_counter() - t0:.2f} s", flush=True)
    return response.json()


async def main() -> None:
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        # All four requests start together; gather waits for them all.
        reports = await asyncio.gather(*(fetch_weather(client, city, t0) for city in CITIES))
    print(f"{len(reports)} reports in {time.perf_counter() - t0:.2f} s")


asyncio.run(main())
