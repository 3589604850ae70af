# main.py: BROKEN on purpose. Every request opens a client and nobody closes it.
import os
import warnings

import httpx
from fastapi import FastAPI

# Python hides ResourceWarning unless it runs with -X dev. Show every one about a socket, one line each.
warnings.filterwarnings("always", message="unclosed <socket", category=ResourceWarning)
warnings.showwarning = lambda message, category, *where: print(f"{category.__name__}: {message}", flush=True)

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake quotes service

app = FastAPI()


@app.get("/quote")
async def quote():
    client = httpx.AsyncClient(base_url=UPSTREAM_URL)  # BUG: never closed
    response = await client.get("/quotes/eur?delay=20")
    return response.json()


@app.get("/sockets")
async def sockets():
    """Open TCP connections from this process to the quotes service, from the kernel's table."""
    upstream_port = httpx.URL(UPSTREAM_URL).port
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table][1:]
    established = [r for r in rows if int(r[2].split(":")[1], 16) == upstream_port and r[3] == "01"]
    return {"open_connections": len(established)}
