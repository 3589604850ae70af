# main.py: answer the signup at once, send the welcome email after the response
import os
import time
from contextlib import asynccontextmanager

import httpx
from fastapi import BackgroundTasks, FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake CRM service that answers after ?delay=<ms>
started = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - started:5.2f} s  {message}", flush=True)


@asynccontextmanager
async def lifespan(app: FastAPI):
    global started
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        app.state.crm = client
        started = time.perf_counter()
        yield


app = FastAPI(lifespan=lifespan)


def send_welcome_email(email: str) -> None:
    """A plain function with a blocking SMTP-style call: BackgroundTasks runs it in a worker thread."""
    time.sleep(1.0)  # stands in for talking to a mail server
    log(f"welcome email sent to {email}")


async def tell_crm(client: httpx.AsyncClient, email: str) -> None:
    """An async function: BackgroundTasks awaits it on the event loop."""
    response = await client.get("/contacts", params={"delay": 600})
    log(f"CRM told about {email} (HTTP {response.status_code})")


@app.post("/signup")
async def signup(email: str, background_tasks: BackgroundTasks, request: Request):
    log(f"signup {email}: saved, answering")
    background_tasks.add_task(send_welcome_email, email)
    background_tasks.add_task(tell_crm, request.app.state.crm, email)
    return {"email": email, "status": "created"}
