# main.py: six requests, a pool of two connections: watch them take turns
import os
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

# The runner gives every run a database of its own and puts its address in DATABASE_URL
# (postgresql://user:password@/database?host=/run/postgresql). SQLAlchemy picks the async
# driver from the URL's scheme: postgresql+asyncpg.
DATABASE_URL = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1)

# At most two connections, no overflow: a third request that needs one waits for one to
# come back (up to pool_timeout seconds, then it fails).
engine = create_async_engine(DATABASE_URL, pool_size=2, max_overflow=0, pool_timeout=10)


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Open both connections before the first request, so the timeline shows the pool
    # at work rather than the first connections being set up.
    async with engine.connect() as first, engine.connect() as second:
        await first.execute(text("SELECT 1"))
        await second.execute(text("SELECT 1"))
    yield
    await engine.dispose()  # close the pooled connections at shutdown


app = FastAPI(lifespan=lifespan)


@app.get("/report")
async def report():
    asked = time.perf_counter()
    async with engine.connect() as conn:  # waits here while both connections are in use
        got = time.perf_counter()
        await conn.execute(text("SELECT pg_sleep(0.3)"))  # a 300 ms query holds the connection
    done = time.perf_counter()
    return {"waited_ms": round((got - asked) * 1000), "query_ms": round((done - got) * 1000)}
