/**
 * The remote engine against a real WebSocket server speaking the runner protocol (a stand-in
 * for the fleet's gateway): events, fallback reasons, reconnection after close 4000, and the
 * order in which the page offers engines with and without a hosted runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { chooseEngine, pageEngineOrder, type Engine, type EngineEvent } from '../../src/engines/engine.ts';
import { fallbackCause, runWithFallback, type FallbackEvent } from '../../src/engines/fallback.ts';
import { LocalEngine } from '../../src/engines/local.ts';
import { PyodideEngine } from '../../src/engines/pyodide.ts';
import { reconnectBackoff, RemoteEngine } from '../../src/engines/remote.ts';
import { WebContainerEngine } from '../../src/engines/webcontainer.ts';
import { RunnerClient } from '../../src/engines/runner-client.ts';
import { sandboxManifest, type SandboxManifest } from '../../src/protocol/manifest.ts';
import type { ClientMessage, ServerMessage } from '../../src/protocol/messages.ts';
import { describeReason, reason } from '../../src/protocol/reasons.ts';

const manifest = (extra: object = {}): SandboxManifest =>
  sandboxManifest.parse({ id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'script', entry: 'main.py', ...extra });
const server = manifest({ kind: 'server', entry: 'main:app', load: [{ path: '/' }], preview: { requests: ['/'] } });
const files = { 'main.py': 'print("hi")\n' };
const limits = { wallMsScript: 20_000, wallMsServer: 30_000, wallMsPreview: 120_000, memoryBytes: 1, outputBytes: 1, sourceBytes: 1, messageBytes: 1 };

type RunMessage = Extract<ClientMessage, { type: 'run' }>;
/** What the stand-in gateway does with a run: send messages on the socket, close it… */
type Script = (ws: WebSocket, run: RunMessage, connection: number) => void;

interface Gateway {
  url: string;
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
  runs: RunMessage[];
  /** Stops taking connections (the open ones stay), as a gateway does first when it shuts down. */
  stopListening(): void;
  close(): Promise<void>;
}

const send = (ws: WebSocket, message: ServerMessage) => ws.send(JSON.stringify(message));

/** A WebSocket server on loopback that says hello and hands each run to `script`. */
async function gateway(script: Script, port = 0, onConnect?: (ws: WebSocket) => void): Promise<Gateway> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  let connections = 0;
  const runs: RunMessage[] = [];
  wss.on('connection', (ws) => {
    const n = ++connections;
    send(ws, { type: 'hello', protocol: 1, isolation: 'bwrap', limits });
    onConnect?.(ws);
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as ClientMessage;
      if (message.type === 'run') {
        runs.push(message);
        script(ws, message, n);
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const actual = (http.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${actual}/__runner`,
    port: actual,
    connections: () => connections,
    runs,
    stopListening: () => void http.close(),
    close: () => closeAll(http, wss),
  };
}

async function closeAll(http: Server, wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await new Promise<void>((resolve) => http.close(() => resolve()));
}

/** A run that goes through: queued twice, started, output, a trace line, ready with a preview, exit 0. */
const happy: Script = (ws, { runId }) => {
  send(ws, { type: 'queued', runId, position: 2 });
  send(ws, { type: 'queued', runId, position: 1 });
  send(ws, { type: 'started', runId });
  send(ws, { type: 'stdout', runId, data: 'hi\n' });
  send(ws, { type: 'trace', runId, data: '{"ph":"i"}\n' });
  send(ws, { type: 'ready', runId, port: 8000, preview: { path: `/__runner/preview/${'c'.repeat(43)}/` } });
  send(ws, { type: 'exit', runId, code: 0, signal: null, durationMs: 12, reason: null });
};

async function collect<T>(events: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const event of events) all.push(event);
  return all;
}

const until = async (what: string, ok: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** An in-browser engine standing in for Pyodide as the fallback: it only says it ran. */
const inBrowser: Engine = {
  id: 'pyodide',
  supports: () => ({ ok: true }),
  async *run() {
    yield { type: 'stdout', data: 'ran in the browser\n' };
    yield { type: 'exit', code: 0, signal: null, durationMs: 1, reason: null };
  },
};

const noWorker = () => assert.fail('supports() must not start a worker');
const pyodide = new PyodideEngine({ assetsUrl: '/_pyodide/x/', createWorker: noWorker });
const container = new WebContainerEngine({ unavailable: undefined, api: { boot: () => assert.fail('no boot'), harness: () => assert.fail('no harness') } });
const staticLocal = new LocalEngine({ client: undefined, unavailable: 'static host' });

test('without a gateway URL the page offers what it always did; with one, the hosted runner comes first after a local runner', () => {
  const remote = new RemoteEngine({ url: 'wss://runner.example.org/__runner' });
  const today = pageEngineOrder({ local: staticLocal, pyodide, webcontainer: container });
  assert.deepEqual(today.map((e) => e.id), ['local', 'pyodide', 'webcontainer']);
  assert.equal(chooseEngine(manifest(), today).engine, pyodide);
  assert.equal(chooseEngine(server, today).engine, undefined, 'a FastAPI server has no engine on a static host');

  const hosted = pageEngineOrder({ local: staticLocal, remote, pyodide, webcontainer: container });
  assert.deepEqual(chooseEngine(manifest(), hosted).able.map((e) => e.id), ['remote', 'pyodide']);
  assert.deepEqual(chooseEngine(server, hosted).able.map((e) => e.id), ['remote']);
  assert.deepEqual(chooseEngine(manifest({ needs: ['threads', 'postgres'] }), hosted).able.map((e) => e.id), ['remote']);
  assert.deepEqual(chooseEngine(manifest({ language: 'node', entry: 'main.mjs' }), hosted).able.map((e) => e.id), ['remote', 'webcontainer']);

  // A page served by `npm start` keeps its own runner first.
  const served = new LocalEngine({ client: new RunnerClient({ url: 'ws://127.0.0.1:1/__runner?token=t' }) });
  assert.deepEqual(chooseEngine(server, pageEngineOrder({ local: served, remote, pyodide, webcontainer: container })).able.map((e) => e.id), ['local', 'remote']);
  remote.dispose();
});

test('a run on the hosted runner: queue positions, the isolation its hello named, output, a preview on the gateway origin, one exit', async () => {
  const gw = await gateway(happy);
  const remote = new RemoteEngine({ url: gw.url });
  try {
    const events = await collect(remote.run(files, server, new AbortController().signal, { preview: true }));
    assert.deepEqual(events, [
      { type: 'status', state: 'connecting' },
      { type: 'status', state: 'queued', position: 2 },
      { type: 'status', state: 'queued', position: 1 },
      { type: 'status', state: 'running', isolation: 'bwrap' },
      { type: 'stdout', data: 'hi\n' },
      { type: 'trace', data: '{"ph":"i"}\n' },
      { type: 'ready', port: 8000, preview: { origin: `http://127.0.0.1:${gw.port}`, path: `/__runner/preview/${'c'.repeat(43)}/`, limitMs: 120_000 } },
      { type: 'exit', code: 0, signal: null, durationMs: 12, reason: null },
    ]);
    assert.equal(gw.runs[0]!.preview, true);
    assert.equal(new URL(gw.url).search, '', 'no token in the hosted mode');
  } finally {
    remote.dispose();
    await gw.close();
  }
});

test('a preview path that would leave the gateway is dropped, not followed', async () => {
  const gw = await gateway((ws, { runId }) => {
    send(ws, { type: 'started', runId });
    send(ws, { type: 'ready', runId, port: 8000, preview: { path: '//evil.example/x/' } });
    send(ws, { type: 'exit', runId, code: 0, signal: null, durationMs: 1, reason: null });
  });
  const remote = new RemoteEngine({ url: gw.url });
  try {
    const ready = (await collect(remote.run(files, server, new AbortController().signal, { preview: true }))).find((e) => e.type === 'ready');
    assert.deepEqual(ready, { type: 'ready', port: 8000 });
  } finally {
    remote.dispose();
    await gw.close();
  }
});

async function fallbackRun(url: string, connectTimeoutMs = 2_000): Promise<Array<EngineEvent | FallbackEvent>> {
  const remote = new RemoteEngine({ url, connectTimeoutMs });
  try {
    return await collect(runWithFallback(remote, inBrowser, files, manifest(), new AbortController().signal));
  } finally {
    remote.dispose();
  }
}

const fallbackOf = (events: Array<EngineEvent | FallbackEvent>) => events.find((e): e is FallbackEvent => e.type === 'fallback');

test('no gateway listening: the run falls back to the in-browser engine, saying the hosted runner did not answer', async () => {
  const gw = await gateway(happy);
  const url = gw.url;
  await gw.close(); // the port is free again: nobody answers there
  const events = await fallbackRun(url);
  const fallback = fallbackOf(events);
  assert.equal(fallback?.cause.kind, 'unreachable');
  assert.deepEqual([fallback?.from, fallback?.to], ['remote', 'pyodide']);
  assert.deepEqual(events.slice(-2), [
    { type: 'stdout', data: 'ran in the browser\n' },
    { type: 'exit', code: 0, signal: null, durationMs: 1, reason: null },
  ]);
});

test('a gateway that refuses the page (403 at the upgrade) sends the run to the browser too', async () => {
  const http = createServer();
  http.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    const events = await fallbackRun(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/__runner`);
    assert.equal(fallbackOf(events)?.cause.kind, 'unreachable');
    assert.equal(events.at(-1)?.type, 'exit');
  } finally {
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
});

test('refusals before the run starts (rate limit, busy) fall back with the gateway\'s reason, worded in both languages', async () => {
  const refusals = [
    reason('rate-limit', { limit: 'runs-per-minute', detail: 'too many runs in a minute', retrySeconds: 30 }),
    reason('busy', { running: 12, queued: 200, retrySeconds: 15 }),
  ];
  for (const refusal of refusals) {
    const gw = await gateway((ws, { runId }) => send(ws, { type: 'exit', runId, code: null, signal: null, durationMs: 0, reason: refusal }));
    try {
      const fallback = fallbackOf(await fallbackRun(gw.url));
      assert.deepEqual(fallback?.cause, { kind: 'refused', reason: refusal });
    } finally {
      await gw.close();
    }
  }
  assert.equal(describeReason(refusals[0]!, 'en'), 'too many runs in a minute: try again in 30 s');
  assert.equal(describeReason(refusals[0]!, 'zh'), '一分钟内的运行次数已达上限：请 30 秒后再试');
  assert.match(describeReason(refusals[1]!, 'zh'), /15 秒后再试/);
});

test('a connection-level refusal (too many connections) followed by a close ends the run with that reason, then falls back', async () => {
  const refusal = reason('rate-limit', { limit: 'connections', detail: 'too many open connections', retrySeconds: 5 });
  const gw = await gateway(() => undefined, 0, (ws) => {
    send(ws, { type: 'error', reason: refusal });
    setTimeout(() => ws.close(1008, 'rate-limit'), 50);
  });
  try {
    assert.deepEqual(fallbackOf(await fallbackRun(gw.url))?.cause, { kind: 'refused', reason: refusal });
  } finally {
    await gw.close();
  }
});

test('a run that had started is never run again elsewhere: a lost connection ends it with a reason', async () => {
  const gw = await gateway((ws, { runId }) => {
    send(ws, { type: 'started', runId });
    send(ws, { type: 'stdout', runId, data: 'half\n' });
    setTimeout(() => ws.close(1011), 50);
  });
  try {
    const events = await fallbackRun(gw.url);
    assert.equal(fallbackOf(events), undefined);
    const exit = events.at(-1);
    assert.equal(exit?.type === 'exit' && exit.reason?.code, 'fleet-unavailable');
    assert.ok(!events.some((e) => e.type === 'stdout' && e.data.includes('browser')));
  } finally {
    await gw.close();
  }
});

test('which outcomes send a run elsewhere', () => {
  const exit = (code: Parameters<typeof reason>[0]): EngineEvent => ({ type: 'exit', code: null, signal: null, durationMs: 0, reason: reason(code, { detail: 'x' }) });
  assert.equal(fallbackCause(exit('busy'), false)?.kind, 'refused');
  assert.equal(fallbackCause(exit('busy'), true), undefined, 'never after the start');
  for (const code of ['stopped', 'bad-request', 'timeout', 'internal', 'node-lost'] as const) assert.equal(fallbackCause(exit(code), false), undefined, code);
  assert.equal(fallbackCause({ type: 'exit', code: 1, signal: null, durationMs: 5, reason: null }, false), undefined);
  assert.equal(fallbackCause({ type: 'error', code: 'runner-unreachable', message: 'x' }, false)?.kind, 'unreachable');
  assert.equal(fallbackCause({ type: 'error', code: 'boot-failed', message: 'x' }, false), undefined);
});

test('close 4000 (gateway going away): the run ends with a reason, the page reconnects by itself with backoff, and the next run works', async () => {
  // The first gateway answers one run by starting it and then going away; the port then stays
  // closed for a while (a restart), and a second gateway comes up on it.
  const first: Gateway = await gateway((ws, { runId }) => {
    send(ws, { type: 'started', runId });
    setTimeout(() => {
      first.stopListening();
      ws.close(4000, 'reconnect');
    }, 30);
  });
  const port = first.port;
  const delays: number[] = [];
  const remote = new RemoteEngine({
    url: first.url,
    connectTimeoutMs: 1_000,
    reconnectDelayMs: (attempt) => {
      delays.push(attempt);
      return attempt < 40 ? 100 : undefined;
    },
  });
  let second: Gateway | undefined;
  try {
    const cut = await collect(remote.run(files, manifest(), new AbortController().signal));
    const exit = cut.at(-1);
    assert.equal(exit?.type, 'exit');
    assert.equal(exit?.type === 'exit' && exit.reason?.code, 'fleet-unavailable');
    assert.match(exit?.type === 'exit' ? describeReason(exit.reason!, 'en') : '', /gateway is restarting/);
    await first.close();
    await new Promise((r) => setTimeout(r, 350)); // a few attempts find nobody
    assert.ok(delays.length >= 2, `it kept trying (${delays.length} attempts so far)`);
    second = await gateway(happy, port);
    await until('the page to reconnect', () => second!.connections() === 1 && remote.client.connected);
    assert.equal(second.runs.length, 0, 'it reconnected without a run');
    const again = await collect(remote.run(files, manifest(), new AbortController().signal));
    assert.deepEqual(again.at(-1), { type: 'exit', code: 0, signal: null, durationMs: 12, reason: null });
    assert.equal(second.connections(), 1, 'the run used the connection made in the background');
  } finally {
    remote.dispose();
    await second?.close();
  }
});

test('any other close does not reconnect in the background (the next Run connects)', async () => {
  const gw = await gateway((ws, { runId }) => {
    send(ws, { type: 'started', runId });
    setTimeout(() => ws.close(1001), 30);
  });
  const remote = new RemoteEngine({ url: gw.url, reconnectDelayMs: () => 20 });
  try {
    await collect(remote.run(files, manifest(), new AbortController().signal));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gw.connections(), 1);
    assert.equal(remote.client.connected, false);
  } finally {
    remote.dispose();
    await gw.close();
  }
});

test('the reconnect schedule grows, is capped, is jittered, and gives up', () => {
  const mid = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((a) => reconnectBackoff(a, mid)), [500, 1000, 2000, 4000, 8000, 8000]);
  assert.equal(reconnectBackoff(0, () => 0), 400);
  assert.equal(reconnectBackoff(0, () => 1), 600);
  assert.equal(reconnectBackoff(18, mid), undefined);
  let total = 0;
  for (let a = 0; reconnectBackoff(a, mid) !== undefined; a += 1) total += reconnectBackoff(a, mid)!;
  assert.ok(total >= 60_000 && total <= 180_000, `keeps trying for a minute or two (${total} ms)`);
});

test('a complaint about one bad message is not taken for the reason a later close ends the runs', async () => {
  const gw = await gateway((ws, { runId }) => {
    send(ws, { type: 'error', reason: reason('bad-request', { detail: 'not JSON' }) });
    send(ws, { type: 'started', runId });
    setTimeout(() => ws.close(4000), 30);
  });
  const remote = new RemoteEngine({ url: gw.url, reconnectDelayMs: () => undefined });
  try {
    const exit = (await collect(remote.run(files, manifest(), new AbortController().signal))).at(-1);
    assert.equal(exit?.type === 'exit' && exit.reason?.code, 'fleet-unavailable');
  } finally {
    remote.dispose();
    await gw.close();
  }
});
