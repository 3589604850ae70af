# main.py: enqueue -> worker -> poll, all inside the web process.
# An in-process stand-in for a real job queue: the queue and the job table live in this
# process's memory, so a restart or a crash loses every job that has not finished.
import asyncio
import itertools
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException

WORKERS = 2

jobs: dict = {}  # job id -> {"status": ..., "result": ...}; a real queue keeps this in Redis or a database
job_ids = itertools.count(1)


def render_report(job_id: int) -> str:
    time.sleep(0.7)  # the slow part: blocking work, so it runs in a thread
    return f"report-{job_id}.pdf"


async def worker(queue: asyncio.Queue) -> None:
    while True:
        job_id = await queue.get()
        jobs[job_id]["status"] = "running"
        try:
            result = await asyncio.to_thread(render_report, job_id)
        except Exception as error:
            jobs[job_id].update(status="failed", error=repr(error))
        else:
            jobs[job_id].update(status="done", result=result)
        finally:
            queue.task_done()


@asynccontextmanager
async def lifespan(app: FastAPI):
    queue: asyncio.Queue = asyncio.Queue()
    workers = [asyncio.create_task(worker(queue)) for _ in range(WORKERS)]
    app.state.queue = queue
    yield
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    running = [job_id for job_id, job in jobs.items() if job["status"] == "running"]
    queued = [job_id for job_id, job in jobs.items() if job["status"] == "queued"]
    print(f"shutting down: jobs {running} were running, {queued} still queued; nothing will run them again", flush=True)


app = FastAPI(lifespan=lifespan)


@app.post("/reports", status_code=202)
async def enqueue_report():
    job_id = next(job_ids)
    jobs[job_id] = {"status": "queued"}
    app.state.queue.put_nowait(job_id)
    return {"id": job_id, "status_url": f"/reports/{job_id}"}


@app.get("/reports/{job_id}")
async def report_status(job_id: int):
    if job_id not in jobs:
        raise HTTPException(status_code=404, detail="no such job")
    return {"id": job_id, **jobs[job_id]}
