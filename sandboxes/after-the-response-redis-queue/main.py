# main.py: answer now, work later: a job queue in Redis, drained by a worker the app starts
import asyncio
import os
from contextlib import asynccontextmanager

import redis.asyncio as redis
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

# The runner gives every run its own Redis user, allowed only keys that start with REDIS_PREFIX.
PREFIX = os.environ["REDIS_PREFIX"]
QUEUE = PREFIX + "queue"


def job_key(job_id: str) -> str:
    return f"{PREFIX}job:{job_id}"


async def run_job(r: redis.Redis, job_id: str) -> None:
    await r.hset(job_key(job_id), "status", "running")
    report = await r.hget(job_key(job_id), "report")
    await asyncio.sleep(1.0)  # the slow part: build a report, resize images, send an email…
    await r.hset(job_key(job_id), mapping={"status": "done", "result": f"{report} report ready"})


async def worker(r: redis.Redis) -> None:
    """Takes jobs off the queue one at a time, oldest first, for as long as the app runs."""
    while True:
        _, job_id = await r.brpop(QUEUE)  # waits for a job without blocking the event loop
        # Each job in a task of its own, named after it: its own lane in the timeline, its name in
        # asyncio's debug logs. (asyncio.wait_for(run_job(...)) would run it in this task: since
        # Python 3.12 wait_for is built on asyncio.timeout() and creates no task.)
        job = asyncio.create_task(run_job(r, job_id), name=f"job {job_id}")
        try:
            async with asyncio.timeout(5):  # a stuck job must not stall the queue
                await job  # at the deadline, cancelling this await cancels the job too
        except TimeoutError:
            await r.hset(job_key(job_id), "status", "timed out")


@asynccontextmanager
async def lifespan(app: FastAPI):
    # One client for the app; the worker runs beside the server and stops with it.
    async with redis.from_url(os.environ["REDIS_URL"], decode_responses=True) as r:
        app.state.redis = r
        worker_task = asyncio.create_task(worker(r))
        yield
        worker_task.cancel()
        try:
            await worker_task
        except asyncio.CancelledError:
            pass


app = FastAPI(lifespan=lifespan)


class JobRequest(BaseModel):
    report: str


@app.post("/jobs", status_code=202)
async def enqueue(job: JobRequest):
    r: redis.Redis = app.state.redis
    job_id = str(await r.incr(PREFIX + "next_id"))
    # Status and queue entry together (MULTI/EXEC): the worker never sees a job without a status.
    async with r.pipeline(transaction=True) as pipe:
        pipe.hset(job_key(job_id), mapping={"status": "queued", "report": job.report})
        pipe.lpush(QUEUE, job_id)
        await pipe.execute()
    return {"id": job_id, "status": "queued"}  # answered now; the work happens after the response


@app.get("/jobs/{job_id}")
async def job_status(job_id: str):
    job = await app.state.redis.hgetall(job_key(job_id))
    if not job:
        raise HTTPException(status_code=404, detail="no such job")
    return {"id": job_id, "status": job["status"], "result": job.get("result")}
