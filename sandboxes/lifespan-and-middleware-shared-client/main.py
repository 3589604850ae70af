# main.py: one HTTP client for the whole app, opened and closed by the lifespan handler
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the fake quotes service the harness started
QUOTE = "/quotes/eur?delay=50"  # it answers after 50 ms

# Local ports seen per style: one port is one TCP connection to the quotes service.
ports: dict[str, set] = {"shared": set(), "per-request": set()}


@asynccontextmanager
async def lifespan(app: FastAPI):
    print("lifespan: startup, opening the shared client", flush=True)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        app.state.http = client
        yield  # the app serves requests while the lifespan waits here
        print(f"lifespan: shutdown, connections used: shared {len(ports['shared'])}, per-request {len(ports['per-request'])}", flush=True)
    print("lifespan: shared client closed", flush=True)


app = FastAPI(lifespan=lifespan)


def count_connection(style: str, response: httpx.Response) -> int:
    ports[style].add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
    return len(ports[style])


@app.get("/quote/shared")
async def quote_shared(request: Request):
    response = await request.app.state.http.get(QUOTE)  # the app's one client
    return {"client": "shared", "connections": count_connection("shared", response)}


@app.get("/quote/per-request")
async def quote_per_request():
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:  # opened, used once, closed
        response = await client.get(QUOTE)
        return {"client": "per-request", "connections": count_connection("per-request", response)}
