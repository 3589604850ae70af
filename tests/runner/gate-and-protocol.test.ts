/** The gate in front of /__runner and the protocol's handling of bad messages, over real sockets. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { newToken } from '../../src/runner/gate.ts';
import { Runner } from '../../src/runner/runner.ts';
import { mountRunner, type MountedRunner } from '../../src/runner/ws.ts';
import { hello, messageInbox } from './helpers.ts';

let server: Server;
let runner: Runner;
let mounted: MountedRunner;
let port: number;
const token = newToken();

before(async () => {
  runner = await Runner.start();
  server = createServer((_req, res) => res.end('site'));
  mounted = mountRunner(server, { runner, token, log: () => undefined });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  await mounted.close();
  await runner.close();
  server.close();
});

/** Tries to open the runner socket; resolves with the HTTP status of a refusal, or 101 when let in. */
function attempt(opts: { host?: string; origin?: string | null; token?: string | null; path?: string }): Promise<number> {
  const host = opts.host ?? `127.0.0.1:${port}`;
  const query = opts.token === null ? '' : `?token=${encodeURIComponent(opts.token ?? token)}`;
  const headers: Record<string, string> = { Host: host };
  if (opts.origin !== null) headers.Origin = opts.origin ?? `http://${host}`;
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${opts.path ?? '/__runner'}${query}`, { headers, origin: undefined } as never);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => undefined);
  });
}

test('the page itself (own Host, own Origin, right token) gets in, on every loopback name', async () => {
  assert.equal(await attempt({}), 101);
  assert.equal(await attempt({ host: `localhost:${port}` }), 101);
  assert.equal(await attempt({ host: `[::1]:${port}` }), 101);
});

test('foreign, null, missing and look-alike Origins are refused', async () => {
  for (const origin of ['http://evil.example', 'null', `http://localhost:${port}.evil.com`, `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`]) {
    assert.equal(await attempt({ origin }), 403, origin);
  }
  assert.equal(await attempt({ origin: null }), 403, 'missing Origin');
  // Origin of a different loopback name than the Host: still not the page's own origin.
  assert.equal(await attempt({ host: `localhost:${port}`, origin: `http://127.0.0.1:${port}` }), 403);
});

test('a rebinding Host is refused', async () => {
  assert.equal(await attempt({ host: 'rebind.evil', origin: 'http://rebind.evil' }), 403);
  assert.equal(await attempt({ host: `rebind.evil:${port}`, origin: `http://rebind.evil:${port}` }), 403);
});

test('a missing or wrong token is refused', async () => {
  assert.equal(await attempt({ token: null }), 401);
  assert.equal(await attempt({ token: '' }), 401);
  assert.equal(await attempt({ token: token.slice(0, -1) }), 401);
  assert.equal(await attempt({ token: `${token}x` }), 401);
});

/** An open, authorised connection with a message queue. */
async function connectClient() {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/__runner?token=${token}`, { origin: `http://127.0.0.1:${port}` });
  const { inbox, next } = messageInbox(ws, 15_000);
  await new Promise((resolve) => ws.once('open', resolve));
  return { ws, next, inbox };
}

test('hello, then a run streams started → stdout → exit', async () => {
  const c = await connectClient();
  const helloMsg = await c.next((m) => m.type === 'hello');
  assert.equal(helloMsg.type === 'hello' && helloMsg.isolation, 'bwrap');
  c.ws.send(JSON.stringify({ type: 'run', runId: 'r1', ...hello }));
  await c.next((m) => m.type === 'started' && m.runId === 'r1');
  const exit = await c.next((m) => m.type === 'exit' && m.runId === 'r1');
  assert.equal(exit.type === 'exit' && exit.code, 0);
  // Output may arrive in any number of chunks (Python writes the text and the newline apart).
  const stdout = c.inbox.flatMap((m) => (m.type === 'stdout' && m.runId === 'r1' ? [m.data] : [])).join('');
  assert.equal(stdout, 'hello again\n');
  c.ws.close();
});

test('malformed, unknown-type and binary messages get a bad-request error; the connection keeps working', async () => {
  const c = await connectClient();
  await c.next((m) => m.type === 'hello');
  for (const raw of ['{not json', JSON.stringify({ type: 'explode' }), JSON.stringify({ type: 'run', runId: '../../x', manifest: {}, files: {} }), JSON.stringify([1, 2])]) {
    c.ws.send(raw);
    const error = await c.next((m) => m.type === 'error');
    assert.equal(error.type === 'error' && error.reason.code, 'bad-request', raw);
  }
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  const binary = await c.next((m) => m.type === 'error');
  assert.match(binary.type === 'error' ? binary.reason.message : '', /binary/);
  c.ws.send(JSON.stringify({ type: 'run', runId: 'bad-manifest', manifest: { id: 'x' }, files: { 'main.py': '' } }));
  const refused = await c.next((m) => m.type === 'exit' && m.runId === 'bad-manifest');
  assert.equal(refused.type === 'exit' && refused.reason?.code, 'bad-request');
  c.ws.send(JSON.stringify({ type: 'run', runId: 'after', ...hello }));
  const ok = await c.next((m) => m.type === 'exit' && m.runId === 'after');
  assert.equal(ok.type === 'exit' && ok.reason, null);
  c.ws.close();
});

test('an oversized message closes that connection (1009) and the runner keeps serving others', async () => {
  const c = await connectClient();
  await c.next((m) => m.type === 'hello');
  const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
  c.ws.send(JSON.stringify({ type: 'run', runId: 'huge', ...hello, files: { 'main.py': 'x'.repeat(200 * 1024) } }));
  assert.equal(await closed, 1009);
  const other = await connectClient();
  other.ws.send(JSON.stringify({ type: 'run', runId: 'fine', ...hello }));
  const exit = await other.next((m) => m.type === 'exit' && m.runId === 'fine');
  assert.equal(exit.type === 'exit' && exit.code, 0);
  other.ws.close();
});

test('stop ends a running sandbox with reason "stopped"', async () => {
  const c = await connectClient();
  c.ws.send(JSON.stringify({ type: 'run', runId: 'long', ...hello, files: { 'main.py': 'import time\nprint("going", flush=True)\ntime.sleep(30)\n' } }));
  await c.next((m) => m.type === 'stdout' && m.runId === 'long');
  c.ws.send(JSON.stringify({ type: 'stop', runId: 'long' }));
  const exit = await c.next((m) => m.type === 'exit' && m.runId === 'long');
  assert.equal(exit.type === 'exit' && exit.reason?.code, 'stopped');
  assert.ok(exit.type === 'exit' && exit.durationMs < 5000);
  c.ws.close();
});
