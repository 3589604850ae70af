# queries.py: three independent queries for one dashboard, run three ways
import asyncio
import itertools
import time

from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

metadata = MetaData()
orders = Table(
    "orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer", String(40)),
    Column("total", Integer),
)

engine = create_async_engine("sqlite+aiosqlite:///shop.db", pool_size=5)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
connection_numbers = itertools.count(1)


def sleep_ms(ms: int) -> int:
    time.sleep(ms / 1000)
    return ms


@event.listens_for(engine.sync_engine, "connect")
def add_functions(dbapi_connection, connection_record):
    # sleep(ms): a query that takes as long as a database server would (PostgreSQL: pg_sleep).
    dbapi_connection.create_function("sleep", 1, sleep_ms)
    # connection_no(): which pooled connection ran the query, numbered as they are opened.
    number = next(connection_numbers)
    dbapi_connection.create_function("connection_no", 0, lambda: number)


# Three queries for a dashboard, 300 ms each, none needs another's result.
QUERIES = {
    "order_count": select(func.count(orders.c.id), func.connection_no(), func.sleep(300)),
    "revenue": select(func.sum(orders.c.total), func.connection_no(), func.sleep(300)),
    "biggest_order": select(func.max(orders.c.total), func.connection_no(), func.sleep(300)),
}


async def run_query(session: AsyncSession, name: str) -> tuple:
    value, connection, _ = (await session.execute(QUERIES[name])).one()
    return name, value, connection


async def in_own_session(name: str) -> tuple:
    async with SessionLocal() as session:  # its own session, so its own connection
        return await run_query(session, name)


async def one_session_in_a_row() -> list:
    async with SessionLocal() as session:
        return [await run_query(session, name) for name in QUERIES]


async def gather_own_sessions() -> list:
    return await asyncio.gather(*(in_own_session(name) for name in QUERIES))


async def gather_one_shared_session() -> list:  # don't
    async with SessionLocal() as session:
        return await asyncio.gather(*(run_query(session, name) for name in QUERIES))


async def two_tasks_one_transaction() -> None:  # don't, either
    """Two tasks take turns on one session, never at the same moment: nothing raises."""
    async with SessionLocal() as session:

        async def place_order() -> None:
            await session.execute(orders.insert().values(customer="dee", total=99))
            await asyncio.sleep(0.2)  # the payment service says no...
            await session.rollback()  # ...so this task undoes its order

        async def record_visit() -> None:
            await asyncio.sleep(0.1)
            await session.commit()  # commits the session's one transaction, dee's order included

        await asyncio.gather(place_order(), record_visit())

    async with SessionLocal() as session:
        kept = (await session.execute(select(func.count()).where(orders.c.customer == "dee"))).scalar_one()
    print(f"two_tasks_one_transaction: the order that place_order rolled back is in the table: {kept == 1}")


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(orders.insert(), [{"customer": c, "total": t} for c, t in [("ana", 120), ("ben", 80), ("chen", 45)]])

    for way in (one_session_in_a_row, gather_own_sessions, gather_one_shared_session):
        started = time.perf_counter()
        results = await way()
        connections = {connection for _, _, connection in results}
        print(f"{way.__name__}: {len(results)} queries on {len(connections)} connection(s) in {time.perf_counter() - started:.2f} s")
        print(f"    (name, value, connection): {results}", flush=True)

    await two_tasks_one_transaction()

    await engine.dispose()


asyncio.run(main())
