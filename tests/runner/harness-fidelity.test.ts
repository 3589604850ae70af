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

// Task names, the loop's task factory and a task's callbacks are what a program can see of
// the harness's task bookkeeping: the same script prints the same with it and without it.
const namesScript = `import asyncio, time

async def crunch():
    time.sleep(0.01)  # holds the loop: a culprit for the event-loop lane
    return asyncio.current_task().get_name()

async def main():
    loop = asyncio.get_running_loop()
    print("factory", loop.get_task_factory())
    print("main", asyncio.current_task().get_name())
    t = asyncio.create_task(crunch())
    print("pending", repr(t).split(" coro=")[0], "cb=" in repr(t))
    frame = t._source_traceback[-1]
    print("created at", frame.name, frame.filename.rsplit("/", 1)[-1])
    u = asyncio.create_task(crunch(), name="named")
    print("got", await t, await u, t.get_name(), u.get_name())
    async with asyncio.TaskGroup() as tg:
        g = tg.create_task(crunch())
    print("group", g.get_name(), g.result(), await asyncio.gather(crunch(), crunch()))
    print("all", sorted(x.get_name() for x in asyncio.all_tasks()))

asyncio.run(main(), debug=True)
`;

// Representative FastAPI apps: every answer must be the same with the harness and without it.
// Bodies stay under the load driver's 80 shown characters, or are cut at the same place.
const differentialApp = `import asyncio, re
from contextlib import asynccontextmanager
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, WebSocket
from fastapi.responses import JSONResponse, StreamingResponse

events = []

@asynccontextmanager
async def lifespan(app):
    events.append("startup")
    yield

app = FastAPI(lifespan=lifespan)

class Teapot(Exception):
    pass

@app.exception_handler(Teapot)
async def teapot_handler(request, exc):
    return JSONResponse({"teapot": str(exc)}, status_code=418)

@app.middleware("http")
async def count_requests(request, call_next):
    response = await call_next(request)
    response.headers["x-seen"] = "1"
    return response

async def db():
    events.append("open")
    try:
        yield "conn"
    finally:
        events.append("close")

def sync_resource():
    yield "sync"

@app.get("/sync")
def sync_endpoint(q: int = 1):
    return {"sync": q * 2}

@app.get("/async")
async def async_endpoint(conn: str = Depends(db), res: str = Depends(sync_resource)):
    await asyncio.sleep(0.01)
    return {"conn": conn, "res": res, "startup": events[0]}

def remember(what):
    events.append(what)

@app.post("/background")
async def background(tasks: BackgroundTasks):
    tasks.add_task(remember, "background ran")
    return {"queued": True}

@app.get("/events")
async def seen():
    return {"background": "background ran" in events, "closed": events.count("open") == events.count("close")}

@app.get("/stream")
async def stream():
    async def chunks():
        for i in range(3):
            await asyncio.sleep(0.01)
            yield f"chunk {i};"
    return StreamingResponse(chunks(), media_type="text/plain")

@app.get("/teapot")
async def teapot():
    raise Teapot("short and stout")

@app.get("/missing")
def missing():
    raise HTTPException(status_code=404, detail="no such thing")

@app.get("/number/{n}")
async def number(n: int):
    return {"n": n}

@app.get("/group")
async def group():
    async def square(n):
        await asyncio.sleep(0.01 * (3 - n))
        return n * n
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(square(n)) for n in range(3)]
    return [t.result() for t in tasks]

@app.get("/names")
async def names():
    async def inner():
        return asyncio.current_task().get_name()
    unnamed = asyncio.create_task(inner())
    named = asyncio.create_task(inner(), name="worker")
    callbacks = "cb=" in repr(unnamed)
    got = [await unnamed, await named]
    return {"factory": repr(asyncio.get_running_loop().get_task_factory()), "unnamed": bool(re.fullmatch(r"Task-\\d+", got[0])),
            "named": got[1], "cb": callbacks}

@app.get("/current")
async def current():
    # Whose task runs the endpoint (Starlette's middleware task here): numbers vary with timing.
    return {"task": re.sub(r"\\d+", "N", asyncio.current_task().get_name())[-60:]}

@app.websocket("/ws")
async def echo(websocket: WebSocket):
    await websocket.accept()
    text = await websocket.receive_text()
    await websocket.send_text(f"echo {text}")
    await websocket.close()
`;

const differentialLoad = [
  { path: '/sync?q=21' },
  { path: '/async' },
  { method: 'POST', path: '/background' },
  { path: '/events', delayMs: 600 },
  { path: '/stream' },
  { path: '/teapot' },
  { path: '/missing' },
  { path: '/number/x' },
  { path: '/number/7' },
  { path: '/group' },
  { path: '/names' },
  { path: '/current' },
  { path: '/nowhere' },
  { path: '/ws', websocket: { send: ['hi'], messages: 1, forMs: 3000 } },
];

// Runs each program through the harness's own entry points (run.py, serve.py with its load
// driver) twice, with ASYNCLAB_TRACE=0 and =1, and reports what a reader would see of each.
const differentialMain = `import json, os, re, subprocess, sys

HARNESS = os.path.join(os.environ["ASYNCLAB_HARNESS"], "python")

def run(trace, script, entry, load=None):
    env = {**os.environ, "ASYNCLAB_TRACE": trace, "ASYNCLAB_ENTRY": entry, "ASYNCLAB_LOAD": json.dumps(load or [])}
    done = subprocess.run([sys.executable, "-u", "-s", "-X", "utf8", os.path.join(HARNESS, script)],
                          env=env, pass_fds=(3,), capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr

def answers(stdout):
    """The load driver's lines, by request number, without the timings."""
    lines = [re.sub(r" in \\d+ ms|  at \\d+ ms", "", line) for line in stdout.splitlines() if line.startswith("[load] #")]
    return sorted(lines, key=lambda line: int(line.split()[1][1:]))

report = {}
for trace in ("0", "1"):
    code, out, err = run(trace, "run.py", "names.py")
    report[f"script {trace}"] = {"code": code, "stdout": out, "stderr": err}
    code, out, err = run(trace, "serve.py", "app:app", json.loads(open("load.json").read()))
    report[f"server {trace}"] = {"code": code, "answers": answers(out), "stderr": err}
print(json.dumps(report))
`;

test('representative programs and FastAPI apps answer the same with the harness and without it', async () => {
  const r = await runToEnd(runner, {
    manifest: { id: 'differential', title: { en: 'd', zh: 'd' }, language: 'python', kind: 'script', entry: 'main.py', needs: ['threads', 'processes'] },
    files: { 'main.py': differentialMain, 'names.py': namesScript, 'app.py': differentialApp, 'load.json': JSON.stringify(differentialLoad) },
  });
  assert.equal(r.exit.reason, null, r.stderr.slice(0, 3000));
  const report = JSON.parse(r.stdout) as Record<string, { code: number; stdout?: string; answers?: string[]; stderr: string }>;
  const part = (key: string) => {
    const found = report[key];
    assert.ok(found, `the report has no "${key}": ${r.stdout.slice(0, 500)}`);
    return found;
  };
  const [scriptOff, scriptOn, serverOff, serverOn] = [part('script 0'), part('script 1'), part('server 0'), part('server 1')];
  assert.equal(scriptOff.code, 0, scriptOff.stderr);
  assert.equal(scriptOn.code, 0, scriptOn.stderr);
  assert.equal(scriptOn.stdout, scriptOff.stdout);
  assert.match(scriptOff.stdout ?? '', /^factory None\nmain Task-1\npending <Task pending name='Task-2' False\ncreated at create_task tasks.py\ngot Task-2 named Task-2 named\n/);
  assert.equal(serverOff.code, 0, serverOff.stderr);
  assert.equal(serverOn.code, 0, serverOn.stderr);
  assert.equal(serverOff.answers!.length, differentialLoad.length + 2, serverOff.answers!.join('\n')); // + the echo's two messages
  assert.deepEqual(serverOn.answers, serverOff.answers);
  // The traced runs were traced (their events share the run's trace channel): lanes and culprits
  // carry the name the code gave a task, else its coroutine's, while the tasks keep asyncio's.
  const model = buildModel(r.trace);
  const tasks = spansOf(model, 'task').map((s) => s.name);
  for (const lane of ['crunch', 'named', 'crunch#2', 'crunch#3', 'crunch#4', 'main', 'names.inner', 'worker', 'group.square#3']) assert.ok(tasks.includes(lane), `task lane ${lane} in ${tasks.join(', ')}`);
  assert.ok(!tasks.includes('crunch#5') && !tasks.includes('names.inner#2'), 'a named task does not count as another of its function');
  const culprits = new Set(spansOf(model, 'loop').map((s) => s.name));
  for (const culprit of ['crunch', 'named', 'crunch#2', 'crunch#3', 'crunch#4']) assert.ok(culprits.has(culprit), `culprit ${culprit} in ${[...culprits].join(', ')}`);
  assert.ok(spansOf(model, 'handler').some((h) => h.name === 'GET /names'), 'the traced server ran its handlers traced');
});
