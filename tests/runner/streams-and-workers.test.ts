/**
 * The harness's long-lived clients and worker processes, on real runs: SSE and WebSocket
 * clients in the load driver (spans plus one instant per message), server-side lanes for
 * streams and WebSocket connections, and gunicorn workers with one handler lane each.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Runner } from '../../src/runner/runner.ts';
import { sandboxManifest } from '../../src/protocol/manifest.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { peakConcurrency, spansOf } from '../../src/timeline/summary.ts';
import { python, runToEnd } from './helpers.ts';

let runner: Runner;
before(async () => (runner = await Runner.start()));
after(() => runner.close());

const server = (source: string, load: unknown[], files: Record<string, string> = {}) => {
  const sandbox = python(source, { kind: 'server', entry: 'main:app', load: load as never, needs: Object.keys(files).length ? ['processes'] : [] });
  return { manifest: sandbox.manifest, files: { 'main.py': source, ...files } };
};

test('SSE clients: one span per stream, one instant per event, and the server sees the early leaver go', async () => {
  const source = `import asyncio
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

async def ticks():
    try:
        for n in range(1, 6):
            await asyncio.sleep(0.05)
            yield f"id: {n}\\ndata: tick {n}\\n\\n"
    finally:
        print("cleanup ran", flush=True)

@app.get("/ticks")
async def stream():
    return StreamingResponse(ticks(), media_type="text/event-stream")
`;
  const r = await runToEnd(runner, server(source, [
    { path: '/ticks', sse: { forMs: 5000 } },
    { path: '/ticks', sse: { events: 2 } },
  ]));
  assert.equal(r.exit.code, 0, r.stderr);
  const model = buildModel(r.trace);
  const clients = spansOf(model, 'request', 'SSE /ticks');
  assert.equal(clients.length, 2);
  assert.deepEqual(clients.map((s) => s.args.events).sort(), [2, 5]);
  assert.ok(clients.some((s) => String(s.args.ended).startsWith('client left after 2 events')));
  assert.ok(clients.some((s) => String(s.args.ended).startsWith('server ended the stream')));
  const events = model.instants.filter((i) => i.cat === 'message');
  assert.equal(events.length, 7);
  assert.ok(events.every((i) => i.lane.startsWith('request ') && i.args.direction === 'in'));
  assert.deepEqual(events.filter((i) => i.args.data === 'tick 1').length, 2);
  const streams = spansOf(model, 'handler', 'stream GET /ticks');
  assert.deepEqual(streams.map((s) => s.args.ended).sort(), ['client disconnected', 'complete']);
  assert.equal((r.stdout.match(/cleanup ran/g) ?? []).length, 2);
  assert.match(r.stdout, /\[load\] 2 SSE streams: 2 ok, 0 failed/);
});

test('an http middleware (BaseHTTPMiddleware) adds no stream lanes of its own', async () => {
  const source = `import asyncio
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

app = FastAPI()

@app.middleware("http")
async def timing(request: Request, call_next):
    return await call_next(request)

@app.get("/plain")
async def plain():
    return {"ok": True}

async def two():
    for n in range(2):
        await asyncio.sleep(0.02)
        yield f"data: {n}\\n\\n"

@app.get("/events")
async def events():
    return StreamingResponse(two(), media_type="text/event-stream")
`;
  const r = await runToEnd(runner, server(source, [{ path: '/plain', count: 2 }, { path: '/events', sse: { forMs: 3000 } }]));
  assert.equal(r.exit.code, 0, r.stderr);
  const model = buildModel(r.trace);
  assert.deepEqual(spansOf(model, 'handler', 'stream').map((s) => s.name), ['stream GET /events']);
  assert.equal(spansOf(model, 'request', 'SSE /events')[0]!.args.events, 2);
});

test('WebSocket clients: sends and receives as instants, a server lane per connection, a refused handshake counts as failed', async () => {
  const source = `from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
members = []

@app.websocket("/room")
async def room(websocket: WebSocket):
    await websocket.accept()
    members.append(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            for member in list(members):
                await member.send_text(text.upper())
    except WebSocketDisconnect:
        pass
    finally:
        members.remove(websocket)
`;
  const r = await runToEnd(runner, server(source, [
    { path: '/room', count: 2, websocket: { messages: 2, forMs: 4000 } },
    { path: '/room', delayMs: 150, websocket: { send: ['one', { n: 2 }], sendEveryMs: 100, messages: 2, forMs: 4000 } },
    { path: '/nowhere', websocket: { forMs: 1000 } },
  ]));
  assert.equal(r.exit.code, 1, 'the refused client makes the load fail');
  const model = buildModel(r.trace);
  const clients = spansOf(model, 'request', 'WS /room');
  assert.equal(clients.length, 3);
  assert.ok(clients.every((s) => s.args.received === 2));
  const received = model.instants.filter((i) => i.cat === 'message' && i.args.direction === 'in').map((i) => i.args.data);
  assert.deepEqual(received.sort(), ['ONE', 'ONE', 'ONE', '{"N": 2}', '{"N": 2}', '{"N": 2}']);
  assert.equal(model.instants.filter((i) => i.args.direction === 'out').length, 2);
  const refused = spansOf(model, 'request', 'WS /nowhere')[0]!;
  assert.match(String(refused.args.ended), /handshake refused|failed/);
  const connections = spansOf(model, 'handler', 'WS /room');
  assert.equal(connections.length, 3);
  assert.equal(peakConcurrency(connections), 3);
  assert.match(r.stdout, /\[load\] 4 WebSockets: 3 ok, 1 failed/);
});

test('gunicorn.conf.py: worker processes share the socket, each with its own handler lane, loop lane and pid', async () => {
  const source = `import os, time
from fastapi import FastAPI

app = FastAPI()

@app.get("/block")
async def block():
    time.sleep(0.8)
    return {"pid": os.getpid()}

@app.get("/ping")
async def ping():
    return {"pid": os.getpid()}
`;
  const config = 'workers = 2\nworker_class = "uvicorn.workers.UvicornWorker"\nloglevel = "warning"\n';
  const r = await runToEnd(runner, server(source, [
    { path: '/block', delayMs: 100 },
    { path: '/ping', count: 6, everyMs: 100, delayMs: 200 },
  ], { 'gunicorn.conf.py': config }));
  assert.equal(r.exit.code, 0, r.stderr);
  assert.equal(r.exit.reason, null);
  const model = buildModel(r.trace);
  const ready = model.instants.find((i) => i.name === 'ready')!;
  assert.equal(ready.args.workers, 2);
  const lanes = model.lanes.filter((l) => l.kind === 'handler');
  assert.equal(lanes.length, 2, lanes.map((l) => l.id).join(', '));
  assert.ok(lanes.every((l) => /^handler w\d · pid \d+$/.test(l.id)));
  const blocker = lanes.find((l) => l.spans.some((s) => s.name === 'GET /block'))!;
  const other = lanes.find((l) => l !== blocker)!;
  const pid = blocker.spans[0]!.args.pid;
  assert.ok(blocker.spans.every((s) => s.args.pid === pid));
  assert.ok(other.spans.some((s) => s.name === 'GET /ping'), 'the other worker answered pings meanwhile');
  const block = spansOf(model, 'loop').find((s) => s.name === 'GET /block')!;
  assert.equal(block.args.pid, pid);
  assert.equal(block.lane, blocker.id.replace(/^handler/, 'event loop'), 'each worker has its own loop lane');
  // The pings never waited for the blocked worker.
  assert.ok(peakConcurrency(spansOf(model, 'request', '/ping')) <= 1);
  assert.match(r.stdout, /gunicorn listening on http:\/\/127\.0\.0\.1:\d+ with 2 workers/);
});

test('manifest: stream clients are checked (one kind per step, GET only, Python servers only)', () => {
  const base = { id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'server', entry: 'main:app' };
  const ok = sandboxManifest.safeParse({ ...base, load: [{ path: '/s', sse: { events: 3 } }, { path: '/ws', websocket: { send: ['hi'], messages: 1 } }] });
  assert.ok(ok.success, JSON.stringify(ok.error?.issues));
  const bad = (load: unknown[], extra: object = {}) => {
    const parsed = sandboxManifest.safeParse({ ...base, ...extra, load });
    return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
  };
  assert.deepEqual(bad([{ path: '/s', sse: {} }]), ['load.0.sse']);
  assert.deepEqual(bad([{ path: '/s', websocket: { send: [] } }]), ['load.0.websocket']);
  assert.deepEqual(bad([{ path: '/s', sse: { events: 1 }, websocket: { messages: 1 } }]), ['load.0.websocket']);
  assert.deepEqual(bad([{ path: '/s', method: 'POST', sse: { events: 1 } }]), ['load.0.method']);
  assert.deepEqual(bad([{ path: '/s', sse: { events: 1 } }], { language: 'node', entry: 'server.mjs' }), ['load.0.sse']);
});
