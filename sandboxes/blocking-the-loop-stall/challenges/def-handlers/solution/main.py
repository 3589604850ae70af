# main.py: three async def endpoints that each make one blocking call
import os
import sqlite3
import time

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake rates service that answers after ?delay=<ms>

# A slow report: SQLite counts through 2.5 million generated rows (about half a second).
SLOW_QUERY = """
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500000)
    SELECT count(*) FROM n
"""

app = FastAPI()


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/sleep")
def sleep():
    time.sleep(0.6)  # blocks the thread, and the thread is the event loop
    return {"slept": 0.6}


@app.get("/rates")
async def rates():
    with httpx.Client() as client:  # a sync client: .get() waits for the answer on this thread
        response = client.get(f"{UPSTREAM_URL}/rates?delay=600")
    return response.json()


@app.get("/report")
def report():
    db = sqlite3.connect(":memory:")  # the stdlib driver is sync: execute() runs the query to the end
    try:
        (rows,) = db.execute(SLOW_QUERY).fetchone()
    finally:
        db.close()
    return {"rows": rows}
