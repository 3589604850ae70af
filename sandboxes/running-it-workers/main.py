# main.py: one app, served by several worker processes (see gunicorn.conf.py)
import os
import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health():
    return {"status": "ok", "pid": os.getpid()}


@app.get("/export")
async def export():
    time.sleep(1.2)  # lesson 5's bug: it blocks this worker's event loop, and only this worker's
    return {"exported": True, "pid": os.getpid()}
