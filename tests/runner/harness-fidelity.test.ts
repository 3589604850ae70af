/**
 * The tracing harness must not change the program it traces (issue 15, item 9): no object
 * kept alive per request, no asyncio-only call where no asyncio loop runs, task names and the
 * loop's task factory as asyncio has them, and the same answers from representative FastAPI
 * apps with the harness on and off.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Runner } from '../../src/runner/runner.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { spansOf } from '../../src/timeline/summary.ts';
import { python, runToEnd } from './helpers.ts';

let runner: Runner;
before(async () => (runner = await Runner.start()));
after(() => runner.close());

const liveTasksApp = `import asyncio, gc
from contextlib import asynccontextmanager
from fastapi import FastAPI

def live_tasks():
    gc.collect()
    return sum(isinstance(o, asyncio.Task) for o in gc.get_objects())

@asynccontextmanager
async def lifespan(app):
    print("live tasks at start", live_tasks())
    yield
    print("live tasks at end", live_tasks())

app = FastAPI(lifespan=lifespan)

@app.get("/ping")
async def ping():
    await asyncio.sleep(0)
    return {"ok": True}
`;

test('a server keeps no asyncio Task alive per request', async () => {
  const requests = 400;
  const r = await runToEnd(runner, {
    manifest: {
      id: 'live-tasks',
      title: { en: 't', zh: 't' },
      language: 'python',
      kind: 'server',
      entry: 'main:app',
      // Spread out: the sandbox's file limit would refuse 400 connections at once.
      load: [{ path: '/ping', count: 200, everyMs: 3 }, { path: '/ping', count: 200, everyMs: 3, delayMs: 1 }],
    },
    files: { 'main.py': liveTasksApp },
  });
  assert.equal(r.exit.reason, null, r.stderr.slice(0, 3000));
  assert.equal((r.stdout.match(/→ 200/g) ?? []).length, requests, r.stdout.slice(-2000));
  const atStart = Number(/live tasks at start (\d+)/.exec(r.stdout)?.[1]);
  const atEnd = Number(/live tasks at end (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(Number.isFinite(atStart) && Number.isFinite(atEnd), r.stdout.slice(-2000));
  // The server's own few tasks (serve, lifespan, a connection or two closing), not one per request.
  assert.ok(atEnd - atStart < 10, `live tasks grew from ${atStart} to ${atEnd} over ${requests} requests`);
});

// trio is not in the pinned runtime (python3-trio is not packaged in runtime.json), so AnyIO's
// trio backend cannot run here. What broke under it was the harness asking asyncio for the
// current task with no asyncio loop running; driving the ASGI app by hand, with no event loop
// at all, puts the wrapped endpoint in exactly that position.
const noLoopApp = `import asyncio
from fastapi import FastAPI

app = FastAPI()

@app.get("/hello/{who}")
async def hello(who: str):
    return {"hello": who, "asyncio loop": asyncio._get_running_loop() is not None}

def drive(coro):
    """Runs a coroutine that never waits, with no event loop of any kind."""
    try:
        coro.send(None)
    except StopIteration:
        return
    raise AssertionError("the app waited on something: this probe needs a path that never waits")

sent = []

async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}

async def send(message):
    sent.append(message)

scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
         "path": "/hello/trio", "raw_path": b"/hello/trio", "root_path": "", "query_string": b"", "headers": [],
         "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
try:
    drive(app(scope, receive, send))
except Exception as error:
    print("raised", type(error).__name__, error)
print("status", sent[0]["status"])
print("body", sent[1]["body"].decode())
`;

test('an async endpoint answers where no asyncio loop runs (as under AnyIO’s trio backend)', async () => {
  const r = await runToEnd(runner, python(noLoopApp));
  assert.equal(r.exit.reason, null, r.stderr.slice(0, 3000));
  assert.doesNotMatch(r.stdout, /raised/, r.stdout);
  assert.match(r.stdout, /status 200\nbody \{"hello":"trio","asyncio loop":false\}/);
  // Still traced: the handler span is there, only the culprit bookkeeping is skipped.
  const handlers = spansOf(buildModel(r.trace), 'handler');
  assert.deepEqual(handlers.map((h) => [h.name, h.args.kind]), [['GET /hello/{who}', 'async']]);
});
