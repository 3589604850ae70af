# main.py: the web app sends jobs to Celery and reports their status; the worker is a separate process
import asyncio
import os
import sys
from contextlib import asynccontextmanager

import redis
from celery.result import AsyncResult
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from tasks import PREFIX, celery_app, render_report

# One worker process that runs one job at a time (--pool=solo). Gossip, mingle and heartbeats are
# how workers find and watch each other over pub/sub; a single worker needs none of them (and the
# ACL refuses gossip's channel pattern).
WORKER = [sys.executable, "-m", "celery", "--quiet", "-A", "tasks", "worker", "--pool=solo", "--concurrency=1",
          "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    # In production the worker is its own service (systemd, a container); here the app starts it,
    # so that one sandbox holds both. Its log lines go to our stdout.
    worker = await asyncio.create_subprocess_exec(*WORKER, stderr=asyncio.subprocess.STDOUT)
    print(f"[app] web app pid {os.getpid()} started the Celery worker, pid {worker.pid}", flush=True)
    app.state.redis = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    yield
    app.state.redis.close()
    worker.terminate()  # SIGTERM: Celery's warm shutdown, which lets a running task finish
    try:
        code = await asyncio.wait_for(worker.wait(), timeout=10)
    except TimeoutError:
        worker.kill()
        code = await worker.wait()
    print(f"[app] worker stopped, exit code {code}", flush=True)


app = FastAPI(lifespan=lifespan)


class ReportRequest(BaseModel):
    month: str


# Plain def endpoints: .delay() and AsyncResult.status talk to Redis with a blocking client,
# so FastAPI runs them on worker threads, and the event loop stays free.
@app.post("/reports", status_code=202)
def enqueue_report(report: ReportRequest):
    job = render_report.delay(report.month)  # sends the job to Redis and returns at once
    app.state.redis.hset(PREFIX + "reports", report.month, job.id)  # remember which job builds this month
    return {"month": report.month, "id": job.id, "status_url": f"/reports/{report.month}"}


@app.get("/reports/{month}")
def report_status(month: str):
    job_id = app.state.redis.hget(PREFIX + "reports", month)
    if job_id is None:  # Celery itself answers PENDING for any id it has never seen
        raise HTTPException(status_code=404, detail="no such report")
    job = AsyncResult(job_id, app=celery_app)
    status = job.status  # reads the job's key in Redis: PENDING, STARTED, SUCCESS or FAILURE
    return {"month": month, "status": status, "result": job.result if status == "SUCCESS" else None}
