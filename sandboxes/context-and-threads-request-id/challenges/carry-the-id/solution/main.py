# main.py: a request id set once by a middleware, stamped on every log line the request causes
import asyncio
import contextvars
import logging
import sys
import time
import uuid

from fastapi import FastAPI, Request

# One value per request, without passing it down through every call.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds the current request id to every record: the logging code itself never passes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


handler = logging.StreamHandler(sys.stdout)
handler.addFilter(RequestIdFilter())
handler.setFormatter(logging.Formatter("%(request_id)-4s %(message)-52s %(threadName)s"))
log = logging.getLogger("shop")
log.addHandler(handler)
log.setLevel(logging.INFO)

app = FastAPI()


@app.middleware("http")
async def assign_request_id(request: Request, call_next):
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:8]
    token = request_id.set(rid)  # visible to everything this request runs from here on
    try:
        response = await call_next(request)
    finally:
        request_id.reset(token)
    response.headers["X-Request-ID"] = rid
    return response


async def check_stock(order: int, item: str) -> None:
    await asyncio.sleep(0.2)  # asks the stock service
    log.info(f"order {order}: {item} in stock (task)")


def render_pdf(order: int, how: str) -> None:
    """A blocking PDF library: 0.3 s on whichever thread runs it."""
    time.sleep(0.3)
    log.info(f"order {order}: PDF rendered ({how})")


@app.get("/orders/{order}/invoice")
async def invoice(order: int):
    log.info(f"order {order}: invoice requested")
    # gather wraps each coroutine in a task, and a new task starts with a copy of this context.
    await asyncio.gather(check_stock(order, "book"), check_stock(order, "pen"))
    # to_thread runs the function inside a copy of this context, in a worker thread.
    await asyncio.to_thread(render_pdf, order, "to_thread")
    loop = asyncio.get_running_loop()
    # run_in_executor does not copy the context by itself: hand it a copy to run in.
    await loop.run_in_executor(None, contextvars.copy_context().run, render_pdf, order, "run_in_executor")
    # Unless you carry it there yourself.
    ctx = contextvars.copy_context()
    await loop.run_in_executor(None, ctx.run, render_pdf, order, "run_in_executor + copy_context().run")
    return {"order": order, "request_id": request_id.get()}
