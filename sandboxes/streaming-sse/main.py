# main.py: a job's progress, pushed to the browser as server-sent events (SSE)
import asyncio
import json

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

app = FastAPI()
STEPS = 10


async def progress_events(request: Request, job: str):
    sent = 0
    try:
        for step in range(1, STEPS + 1):
            # Nothing stops this generator when the client leaves (Starlette 0.46 with uvicorn's
            # ASGI 2.4): events sent to a client that has gone are dropped without an error.
            # So ask, before each event: the client left, stop producing.
            if await request.is_disconnected():
                break
            await asyncio.sleep(0.15)  # waiting for the job's next step; the loop serves others meanwhile
            event = {"job": job, "step": step, "of": STEPS}
            yield f"id: {step}\nevent: progress\ndata: {json.dumps(event)}\n\n"
            sent = step
    finally:
        # Runs however the stream ends: all steps sent, the client gone, or an error.
        how = "finished after" if sent == STEPS else "client left, stopped after"
        print(f"[server] job {job}: {how} {sent} of {STEPS} events, cleaned up", flush=True)


@app.get("/jobs/{job}/progress")
async def progress(job: str, request: Request):
    return StreamingResponse(
        progress_events(request, job),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},  # no caching, no proxy buffering
    )
