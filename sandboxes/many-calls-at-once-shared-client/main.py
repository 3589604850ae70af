import os
import time
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the fake rates service the harness started
RATE_PATH = "/rates/eur?delay=20"  # it answers after 20 ms


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Runs once: the client is created before the first request and closed after the last.
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        app.state.http = client
        yield


app = FastAPI(lifespan=lifespan)

# Local ports of the connections each style has used: one port = one TCP connection.
ports_seen: dict[str, set] = {"shared": set(), "per-call": set()}


def note_connection(style: str, response: httpx.Response) -> int:
    port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    ports_seen[style].add(port)
    return len(ports_seen[style])


@app.get("/rate/shared")
async def rate_shared(request: Request):
    started = time.perf_counter()
    response = await request.app.state.http.get(RATE_PATH)  # the app's one client
    opened = note_connection("shared", response)
    took = (time.perf_counter() - started) * 1000
    return {"client": "shared", "connections": opened, "ms": round(took, 1)}


@app.get("/rate/per-call")
async def rate_per_call():
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:  # a new client every call
        response = await client.get(RATE_PATH)
        opened = note_connection("per-call", response)
    took = (time.perf_counter() - started) * 1000
    return {"client": "per-call", "connections": opened, "ms": round(took, 1)}


@app.get("/sockets")
async def sockets():
    """This sandbox's TCP sockets to the upstream, by state, from the kernel's table."""
    upstream_port = httpx.URL(UPSTREAM_URL).port
    counts = {"established": 0, "time_wait": 0}
    with open("/proc/net/tcp") as table:
        next(table)  # the header line
        for line in table:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == upstream_port and fields[3] == "01":
                counts["established"] += 1
            elif remote_port == upstream_port and fields[3] == "06":
                counts["time_wait"] += 1
    return counts
