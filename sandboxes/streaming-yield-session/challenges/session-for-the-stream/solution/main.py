# main.py: a database session for a StreamingResponse, from a yield dependency or from the stream itself
import asyncio
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.responses import StreamingResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///shop.db")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

app = FastAPI()


def checked_out() -> int:
    """Connections the pool has lent out and not got back yet."""
    return engine.pool.checkedout()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session
    session.info["closed by get_session"] = True
    print(f"get_session: cleanup done, session closed, {checked_out()} connection(s) checked out", flush=True)


async def rows(session: AsyncSession, label: str) -> AsyncIterator[str]:
    """Three rows, 100 ms apart, each one queried when it is about to be sent."""
    for i in range(1, 4):
        value = (await session.execute(text("SELECT :i * 100"), {"i": i})).scalar_one()
        closed = session.info.get("closed by get_session", False)
        print(f"{label}: row {i}, session already closed: {closed}, {checked_out()} connection(s) checked out", flush=True)
        yield f"{value}\n"
        await asyncio.sleep(0.1)


@app.get("/export/own-session")
async def export_own_session():
    async def stream() -> AsyncIterator[str]:
        async with SessionLocal() as session:  # opened by the stream, closed when it ends
            async for row in rows(session, "own session"):
                yield row
        print(f"own session: closed after the last row, {checked_out()} connection(s) checked out", flush=True)

    return StreamingResponse(stream(), media_type="text/plain")


@app.get("/export/dependency")
async def export_dependency():
    # No session from a dependency: its cleanup may run before the first row. The stream
    # opens its own, and closes it after the last row.
    async def stream() -> AsyncIterator[str]:
        async with SessionLocal() as session:
            async for row in rows(session, "dependency"):
                yield row
        print(f"dependency: closed after the last row, {checked_out()} connection(s) checked out", flush=True)

    return StreamingResponse(stream(), media_type="text/plain")


@app.get("/pool")
async def pool():
    return {"checked_out": checked_out()}
