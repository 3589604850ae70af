# main.py: the same 300 ms query, run three ways from FastAPI
import time
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

DATABASE_FILE = "shop.db"  # a file in the sandbox's work directory
QUERY_MS = 300

metadata = MetaData()
orders = Table(
    "orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer", String(40)),
    Column("total", Integer),
)

# Async engine and sessions: the driver is aiosqlite, every call is awaited.
async_engine = create_async_engine(f"sqlite+aiosqlite:///{DATABASE_FILE}")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)

# Sync engine and sessions: the driver is the standard library's sqlite3, every call blocks.
# check_same_thread=False: FastAPI may open and close a sync session on different threads.
sync_engine = create_engine(f"sqlite:///{DATABASE_FILE}", connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(sync_engine, expire_on_commit=False)


def sleep_ms(ms: int) -> int:
    time.sleep(ms / 1000)
    return ms


# SQLite runs inside our process, so a slow SQLite query would burn our own CPU. A database
# server makes us wait instead. sleep(ms), a SQL function added to every new connection,
# stands in for that wait (PostgreSQL has one built in: pg_sleep).
def add_sleep_function(dbapi_connection, connection_record):
    dbapi_connection.create_function("sleep", 1, sleep_ms)


event.listen(sync_engine, "connect", add_sleep_function)
event.listen(async_engine.sync_engine, "connect", add_sleep_function)

# Count the orders, and take QUERY_MS doing it.
ORDER_STATS = select(func.count(orders.c.id), func.sum(orders.c.total), func.sleep(QUERY_MS))


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with async_engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(orders.insert(), [
            {"customer": "ana", "total": 120}, {"customer": "ben", "total": 80}, {"customer": "chen", "total": 45},
        ])
    yield
    await async_engine.dispose()
    sync_engine.dispose()


app = FastAPI(lifespan=lifespan)


async def get_session():
    """One AsyncSession per request, closed (connection returned) when the request is done."""
    async with AsyncSessionLocal() as session:
        yield session


def get_sync_session():
    """One sync Session per request."""
    with SessionLocal() as session:
        yield session


@app.get("/health")
async def health():
    return {"status": "ok"}


# 1. async def + AsyncSession: the query is awaited, the loop serves others meanwhile.
@app.get("/async-session")
async def stats_async(session: AsyncSession = Depends(get_session)):
    count, revenue, _ = (await session.execute(ORDER_STATS)).one()
    return {"orders": count, "revenue": revenue}


# 2. def + sync Session: FastAPI runs it in a worker thread, the query blocks that thread only.
@app.get("/sync-session-def")
def stats_sync(session: Session = Depends(get_sync_session)):
    count, revenue, _ = session.execute(ORDER_STATS).one()
    return {"orders": count, "revenue": revenue}


# 3. The trap: async def + sync Session. The query blocks the event loop's thread.
@app.get("/sync-session-async")
async def stats_sync_in_async(session: Session = Depends(get_sync_session)):
    count, revenue, _ = session.execute(ORDER_STATS).one()
    return {"orders": count, "revenue": revenue}
