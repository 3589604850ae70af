# main.py: a deliberately small connection pool, and what happens when it runs out
import time
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column, Integer, MetaData, String, Table, event, exc, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

metadata = MetaData()
orders = Table(
    "orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer", String(40)),
    Column("total", Integer),
)

engine = create_async_engine(
    "sqlite+aiosqlite:///shop.db",  # a file: SQLAlchemy 2.0 gives it a queue pool, as for a server
    pool_size=6,        # connections kept open
    max_overflow=0,     # extra connections allowed when all of them are busy
    pool_timeout=1.0,   # seconds a request waits for a free connection before TimeoutError
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


def sleep_ms(ms: int) -> int:
    time.sleep(ms / 1000)
    return ms


# sleep(ms) stands in for a database server's work: the query really takes that long,
# in the driver's thread, holding its connection (PostgreSQL's equivalent is pg_sleep).
@event.listens_for(engine.sync_engine, "connect")
def add_sleep_function(dbapi_connection, connection_record):
    dbapi_connection.create_function("sleep", 1, sleep_ms)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(orders.insert(), [
            {"customer": "ana", "total": 120}, {"customer": "ben", "total": 80}, {"customer": "chen", "total": 45},
        ])
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


async def get_session():
    async with SessionLocal() as session:
        # A session checks a connection out at its first query. Asking for it here instead
        # makes the wait for a free connection happen before the endpoint starts,
        # so the handler lanes show it.
        await session.connection()
        yield session


@app.exception_handler(exc.TimeoutError)
async def pool_exhausted(request: Request, error: exc.TimeoutError):
    print(f"{request.url.path}: {error}", flush=True)
    return JSONResponse({"detail": "no database connection free, try again"}, status_code=503, headers={"Retry-After": "1"})


@app.get("/orders/{order_id}")
async def read_order(order_id: int, session: AsyncSession = Depends(get_session)):
    # A 300 ms query: the connection is busy, and out of the pool, for all of it.
    query = select(orders.c.customer, orders.c.total, func.sleep(300)).where(orders.c.id == order_id)
    customer, total, _ = (await session.execute(query)).one()
    return {"id": order_id, "customer": customer, "total": total}


@app.get("/report")
async def report(session: AsyncSession = Depends(get_session)):
    # A 1.5 s report query: longer than the pool_timeout of anyone queueing behind it.
    query = select(func.count(orders.c.id), func.sum(orders.c.total), func.sleep(1500))
    count, revenue, _ = (await session.execute(query)).one()
    return {"orders": count, "revenue": revenue}
