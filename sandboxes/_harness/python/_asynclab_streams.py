"""Server-side lanes for long-lived connections (DESIGN §6), next to _asynclab_tracing's handler lanes.

- WebSocket routes (FastAPI's APIWebSocketRoute): one handler span per connection,
  from the endpoint's start to its end, named `WS <path>`, with how it ended;
- streaming responses (Starlette's StreamingResponse, so SSE too, but not the one
  BaseHTTPMiddleware wraps every response in): one handler span per stream, named `stream <METHOD> <path>`, from the first byte sent to the end of
  the body or the client's disconnect, with the chunks sent and how it ended.

Whether the client is still there is asked of the server, not of the app. Since ASGI
spec 2.4 (which uvicorn reports), Starlette no longer listens for `http.disconnect`
beside a stream, and uvicorn drops what is sent after the client left without an
error: a generator that never checks runs to its end, its last chunks going nowhere.
uvicorn's request cycle knows (`disconnected`), so each cycle is kept in a context
variable of the task that runs the request; a stream counts the chunks sent after the
client had gone (`dropped`) and ends `client disconnected` if the client left first.

An endpoint that returns a StreamingResponse finishes at once (its handler span is
a sliver); the stream span is the part that lasts. Patches wait until the lesson
imports FastAPI/Starlette, like the rest of the harness.
"""
import contextvars
import functools
import itertools

from _asynclab_hooks import when_imported
from _asynclab_trace import emit, now_us

_websockets = itertools.count(1)
_streams = itertools.count(1)
_cycle = contextvars.ContextVar("asynclab_uvicorn_cycle", default=None)


def _begin(lane: str, name: str, args: dict) -> None:
    emit({"ts": now_us(), "ph": "B", "cat": "handler", "lane": lane, "name": name, "args": args})


def _end(lane: str, name: str, args: dict) -> None:
    emit({"ts": now_us(), "ph": "E", "cat": "handler", "lane": lane, "name": name, "args": args})


def _patch_websocket_routes(routing) -> None:
    original_init = routing.APIWebSocketRoute.__init__

    def __init__(self, path, endpoint, **kwargs):
        original_init(self, path, endpoint, **kwargs)
        call = self.dependant.call
        label = f"WS {self.path}"

        @functools.wraps(call)
        async def traced(**values):
            lane = f"handler ws {next(_websockets)}"
            _begin(lane, label, {"kind": "websocket", "path": self.path})
            ended = "returned"
            try:
                return await call(**values)
            except BaseException as exc:
                ended = type(exc).__name__
                code = getattr(exc, "code", None)
                if code is not None:
                    ended += f" ({code})"
                raise
            finally:
                _end(lane, label, {"ended": ended})

        # FastAPI read the signature and dependencies from the original; it calls this per connection.
        self.dependant.call = traced

    routing.APIWebSocketRoute.__init__ = __init__


def _patch_uvicorn_cycle(module) -> None:
    """uvicorn runs each request in a task of its own (`run_asgi`): remember its cycle there."""
    original = module.RequestResponseCycle.run_asgi

    async def run_asgi(self, app):
        _cycle.set(self)
        return await original(self, app)

    module.RequestResponseCycle.run_asgi = run_asgi


def _client_gone(state) -> bool:
    return state["disconnected"] or bool(getattr(_cycle.get(), "disconnected", False))


def _patch_streaming(responses) -> None:
    original_call = responses.StreamingResponse.__call__

    async def __call__(self, scope, receive, send):
        # Starlette's BaseHTTPMiddleware passes every response on as a private streaming one:
        # plumbing, not a stream of the lesson's.
        if scope.get("type") != "http" or type(self).__module__.startswith("starlette.middleware"):
            return await original_call(self, scope, receive, send)
        lane = f"handler stream {next(_streams)}"
        label = f"stream {scope.get('method', 'GET')} {scope.get('path', '')}"
        state = {"chunks": 0, "bytes": 0, "dropped": 0, "disconnected": False, "complete": False}

        async def counting_send(message):
            if message.get("type") == "http.response.body":
                gone = _client_gone(state)
                body = message.get("body", b"")
                if body:
                    state["chunks"] += 1
                    state["bytes"] += len(body)
                    state["dropped"] += gone
                if not message.get("more_body", False) and not gone:
                    state["complete"] = True
            await send(message)

        async def watching_receive():
            message = await receive()
            if message.get("type") == "http.disconnect":
                state["disconnected"] = True
            return message

        _begin(lane, label, {"kind": "stream", "path": scope.get("path", ""), "media": self.media_type})
        ended = "error"
        try:
            await original_call(self, scope, watching_receive, counting_send)
            ended = "complete" if state["complete"] else "client disconnected" if _client_gone(state) else "stopped"
        except BaseException as exc:
            ended = "client disconnected" if _client_gone(state) else type(exc).__name__
            raise
        finally:
            _end(lane, label, {"chunks": state["chunks"], "bytes": state["bytes"], "dropped": state["dropped"], "ended": ended})

    responses.StreamingResponse.__call__ = __call__


def install() -> None:
    when_imported("uvicorn.protocols.http.h11_impl", _patch_uvicorn_cycle)
    when_imported("uvicorn.protocols.http.httptools_impl", _patch_uvicorn_cycle)
    when_imported("fastapi.routing", _patch_websocket_routes)
    when_imported("starlette.responses", _patch_streaming)
