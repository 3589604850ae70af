"""The load driver: plays a server sandbox's `load` and reports every client.

It runs as its own process with its own event loop, so a server that blocks its
loop cannot slow the clock that measures it. Groups start together; a group
starts all its clients at once, or one every `everyMs` when given.

A client is a plain HTTP request, an SSE reader (`sse`: reads events, then
disconnects after `events` of them or `forMs`) or a WebSocket (`websocket`:
sends its messages, receives until `messages` or `forMs`). Each becomes one
`request` span on the trace channel, from the request until the connection
ended, and its messages become instant events (`ph: "i"`, cat `message`) on the
same lane; stdout gets one line per request, message and end.
"""
import asyncio
import json
import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from _asynclab_trace import emit, now_us  # noqa: E402

import httpx  # noqa: E402

EXCERPT = 200
SHOWN = 80
LOAD_T0 = now_us()


def say(line: str) -> None:
    """One line of output in one write, so it cannot interleave with the server's."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _since_start() -> str:
    """When something happened, counted from the moment the load started (one clock for every client)."""
    return f"{(now_us() - LOAD_T0) / 1000:.0f} ms"


def _one_line(text: str, limit: int = SHOWN) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(lane: str, direction: str, number: int, data: str, **extra) -> None:
    arrow = "←" if direction == "in" else "→"
    emit({"ts": now_us(), "ph": "i", "cat": "message", "lane": lane, "name": f"{arrow} {_one_line(data, 60)}",
          "args": {"direction": direction, "n": number, "data": data[:EXCERPT], **extra}})


async def one_http(client, number, group, step):
    method = step.get("method", "GET")
    path = step["path"]
    name = f"{method} {path}"
    lane = f"request {number}"
    started = now_us()
    emit({"ts": started, "ph": "B", "cat": "request", "lane": lane, "name": name, "args": {"group": group, "path": path, "method": method}})
    args = {}
    try:
        response = await client.request(method, path, json=step.get("json"), headers=step.get("headers"))
        args["status"] = response.status_code
        args["body"] = response.text[:EXCERPT]
        outcome = f"{response.status_code}"
        ok = True
    except httpx.HTTPError as exc:
        args["error"] = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        outcome = f"failed ({type(exc).__name__})"
        ok = False
    ended = now_us()
    emit({"ts": ended, "ph": "E", "cat": "request", "lane": lane, "name": name, "args": args})
    body = args.get("body", args.get("error", ""))
    say(f"[load] #{number} {name} → {outcome} in {(ended - started) / 1000:.0f} ms  {_one_line(body)}")
    return ok


async def one_sse(client, number, group, step):
    """Reads `text/event-stream` event by event (fields per the SSE format), then disconnects."""
    path = step["path"]
    spec = step["sse"]
    want, for_ms = spec.get("events"), spec.get("forMs")
    name = f"SSE {path}"
    lane = f"request {number}"
    started = now_us()
    emit({"ts": started, "ph": "B", "cat": "request", "lane": lane, "name": name,
          "args": {"group": group, "path": path, "method": "GET", "protocol": "sse"}})
    state = {"events": 0, "status": None, "ended": ""}

    async def read():
        headers = {"Accept": "text/event-stream", **(step.get("headers") or {})}
        async with client.stream("GET", path, headers=headers) as response:
            state["status"] = response.status_code
            kind = response.headers.get("content-type", "")
            if response.status_code != 200 or not kind.startswith("text/event-stream"):
                body = (await response.aread()).decode("utf-8", "replace")
                state["ended"] = f"not an event stream ({response.status_code} {kind or 'no content-type'}) {_one_line(body)}"
                return False
            data, fields = [], {}
            async for line in response.aiter_lines():
                line = line.rstrip("\r\n")  # httpx before 0.24 keeps the line ending
                if line == "":  # a blank line ends an event
                    if data:
                        state["events"] += 1
                        text = "\n".join(data)
                        _message(lane, "in", state["events"], text, **fields)
                        label = f"{fields['event']} " if "event" in fields else ""
                        ident = f"id {fields['id']}: " if "id" in fields else ""
                        say(f"[load] #{number} {name} ← {label}{ident}{_one_line(text)}  at {_since_start()}")
                        if want and state["events"] >= want:
                            state["ended"] = f"client left after {state['events']} events"
                            return True
                    data, fields = [], {}
                    continue
                if line.startswith(":"):
                    continue  # a comment, e.g. a keep-alive
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "data":
                    data.append(value)
                elif field in ("id", "event", "retry"):
                    fields[field] = value
            state["ended"] = f"server ended the stream after {state['events']} events"
            return True

    try:
        ok = await asyncio.wait_for(read(), for_ms / 1000 if for_ms else None)
    except asyncio.TimeoutError:
        state["ended"] = f"client left after {for_ms} ms ({state['events']} events)"
        ok = state["status"] == 200
    except httpx.HTTPError as exc:
        state["ended"] = f"failed ({type(exc).__name__}: {exc})"[:EXCERPT]
        ok = False
    ended = now_us()
    emit({"ts": ended, "ph": "E", "cat": "request", "lane": lane, "name": name,
          "args": {"status": state["status"], "events": state["events"], "ended": state["ended"]}})
    say(f"[load] #{number} {name} → {state['status'] or '—'}, {state['events']} events in {(ended - started) / 1000:.0f} ms: {state['ended']}")
    return ok


async def one_websocket(port, number, group, step):
    """Connects, sends its messages on schedule while receiving, and closes when it has enough or its time is up."""
    import websockets  # the server side needs it too: uvicorn serves WebSockets with it

    path = step["path"]
    spec = step["websocket"]
    want, for_ms = spec.get("messages"), spec.get("forMs")
    name = f"WS {path}"
    lane = f"request {number}"
    started = now_us()
    emit({"ts": started, "ph": "B", "cat": "request", "lane": lane, "name": name,
          "args": {"group": group, "path": path, "method": "GET", "protocol": "websocket"}})
    state = {"received": 0, "sent": 0, "ended": "", "connected": False, "close": None}

    async def send_all(ws):
        await asyncio.sleep(spec.get("sendAfterMs", 0) / 1000)
        every = spec.get("sendEveryMs")
        for i, message in enumerate(spec.get("send") or []):
            if i and every:
                await asyncio.sleep(every / 1000)
            text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
            try:
                await ws.send(text)
            except websockets.exceptions.ConnectionClosed:
                return
            state["sent"] += 1
            _message(lane, "out", state["sent"], text)
            say(f"[load] #{number} {name} → {_one_line(text)}  at {_since_start()}")

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}{path}", additional_headers=step.get("headers"),
                                      open_timeout=10, ping_interval=None, close_timeout=2) as ws:
            state["connected"] = True
            sender = asyncio.create_task(send_all(ws))
            try:
                async for raw in ws:
                    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                    state["received"] += 1
                    _message(lane, "in", state["received"], text)
                    say(f"[load] #{number} {name} ← {_one_line(text)}  at {_since_start()}")
                    if want and state["received"] >= want:
                        state["ended"] = f"client closed after {state['received']} messages"
                        return
                state["ended"] = "server closed the connection"
            except websockets.exceptions.ConnectionClosedError:
                state["ended"] = "the connection broke" if ws.close_code in (None, 1006) else "server closed the connection"
            finally:
                state["close"] = ws.close_code
                sender.cancel()
            if ws.close_code is not None:
                reason = f" {ws.close_reason}" if ws.close_reason else ""
                state["ended"] += f" (code {ws.close_code}{reason})"

    ok = True
    try:
        await asyncio.wait_for(run(), for_ms / 1000 if for_ms else None)
    except asyncio.TimeoutError:
        state["ended"] = f"client closed after {for_ms} ms"
        ok = state["connected"]
    except websockets.exceptions.InvalidStatus as exc:
        state["ended"] = f"handshake refused (HTTP {exc.response.status_code})"
        ok = False
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        state["ended"] = f"failed ({type(exc).__name__}: {exc})"[:EXCERPT]
        ok = False
    ended = now_us()
    emit({"ts": ended, "ph": "E", "cat": "request", "lane": lane, "name": name,
          "args": {"sent": state["sent"], "received": state["received"], "ended": state["ended"], "close": state["close"]}})
    say(f"[load] #{number} {name} → sent {state['sent']}, received {state['received']} in {(ended - started) / 1000:.0f} ms: {state['ended']}")
    return ok


def kind_of(step) -> str:
    return "sse" if step.get("sse") else "websocket" if step.get("websocket") else "http"


async def run_group(client, port, group, step, numbers):
    await asyncio.sleep(step.get("delayMs", 0) / 1000)
    every = step.get("everyMs")
    kind = kind_of(step)
    tasks = []
    for i, number in enumerate(numbers):
        if every and i:
            await asyncio.sleep(every / 1000)
        if kind == "sse":
            coro = one_sse(client, number, group, step)
        elif kind == "websocket":
            coro = one_websocket(port, number, group, step)
        else:
            coro = one_http(client, number, group, step)
        tasks.append(asyncio.create_task(coro))
    return await asyncio.gather(*tasks)


async def main() -> int:
    steps = json.loads(os.environ.get("ASYNCLAB_LOAD") or "[]")
    port = int(os.environ["ASYNCLAB_PORT"])
    # Request numbers follow the manifest: group by group, in order.
    numbers, next_number = [], 1
    for step in steps:
        count = step.get("count", 1)
        numbers.append(list(range(next_number, next_number + count)))
        next_number += count
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    started = now_us()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:
        results = await asyncio.gather(*(run_group(client, port, g, step, numbers[g]) for g, step in enumerate(steps)))
    flat = [ok for group in results for ok in group]
    failed = flat.count(False)
    took = f"{(now_us() - started) / 1e6:.2f} s in all"
    kinds = [kind_of(step) for step in steps for _ in range(step.get("count", 1))]
    if all(k == "http" for k in kinds):
        say(f"[load] {len(flat)} requests: {len(flat) - failed} answered, {failed} failed, {took}")
    else:
        words = {"http": "requests", "sse": "SSE streams", "websocket": "WebSockets"}
        parts = [f"{kinds.count(k)} {words[k]}" for k in ("http", "sse", "websocket") if k in kinds]
        say(f"[load] {', '.join(parts)}: {len(flat) - failed} ok, {failed} failed, {took}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
