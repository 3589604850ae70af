# main.py: a background email that never waits, and two ways to fix it
import asyncio
import time

from fastapi import BackgroundTasks, FastAPI

app = FastAPI()


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {message}", flush=True)


# BUG: asyncio.sleep() only creates a coroutine object. Without await nothing runs it,
# so this "2-second send" finishes at once, and Python warns that the coroutine was never awaited.
def send_email_buggy(to: str) -> None:
    started = time.perf_counter()
    asyncio.sleep(2)
    log(f"buggy:  email to {to} 'sent' after {time.perf_counter() - started:.1f} s")


# Fix 1: a plain def may block; BackgroundTasks runs it in a worker thread.
def send_email_def(to: str) -> None:
    started = time.perf_counter()
    time.sleep(2)  # stands in for a sync mail library (smtplib)
    log(f"def:    email to {to} sent after {time.perf_counter() - started:.1f} s")


# Fix 2: an async def that awaits; BackgroundTasks awaits it on the event loop.
async def send_email_async(to: str) -> None:
    started = time.perf_counter()
    await asyncio.sleep(2)  # stands in for an async mail library
    log(f"async:  email to {to} sent after {time.perf_counter() - started:.1f} s")


@app.post("/invite")
async def invite(to: str, background_tasks: BackgroundTasks):
    background_tasks.add_task(send_email_buggy, to)
    background_tasks.add_task(send_email_def, to)
    background_tasks.add_task(send_email_async, to)
    return {"invited": to}
