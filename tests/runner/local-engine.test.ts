/** The browser's local engine against the real runner over a real WebSocket. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { newToken } from '../../src/runner/gate.ts';
import { Runner } from '../../src/runner/runner.ts';
import { mountRunner } from '../../src/runner/ws.ts';
import type { EngineEvent } from '../../src/engines/engine.ts';
import { LocalEngine } from '../../src/engines/local.ts';
import { RunnerClient, type SocketLike } from '../../src/engines/runner-client.ts';
import { sandboxManifest } from '../../src/protocol/manifest.ts';

const manifest = sandboxManifest.parse({ id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'script', entry: 'main.py' });

async function stack(listenPort = 0) {
  const runner = await Runner.start();
  const server = createServer();
  const token = newToken();
  const mounted = mountRunner(server, { runner, token, log: () => undefined });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `ws://127.0.0.1:${port}/__runner?token=${token}`;
  const client = new RunnerClient({
    url,
    createSocket: (url) => new WebSocket(url, { origin: `http://127.0.0.1:${port}` }) as unknown as SocketLike,
  });
  return {
    engine: new LocalEngine({ client }),
    port,
    url,
    close: async () => {
      await runner.close();
      await mounted.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function collect(iterable: AsyncIterable<EngineEvent>, onEvent?: (e: EngineEvent) => void): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  for await (const event of iterable) {
    events.push(event);
    onEvent?.(event);
  }
  return events;
}

test('a run streams status, output and exit; two runs on one page stay apart', async () => {
  const s = await stack();
  try {
    const [a, b] = await Promise.all([
      collect(s.engine.run({ 'main.py': 'print("first")' }, manifest, new AbortController().signal)),
      collect(s.engine.run({ 'main.py': 'import time\ntime.sleep(0.3)\nprint("second")' }, manifest, new AbortController().signal)),
    ]);
    for (const [events, word] of [[a, 'first'], [b, 'second']] as const) {
      assert.deepEqual(events[0], { type: 'status', state: 'connecting' });
      assert.ok(events.some((e) => e.type === 'status' && e.state === 'running'));
      assert.equal(events.filter((e) => e.type === 'stdout').map((e) => (e as { data: string }).data).join(''), `${word}\n`);
      const last = events.at(-1)!;
      assert.equal(last.type, 'exit');
      assert.equal(last.type === 'exit' && last.code, 0);
    }
  } finally {
    await s.close();
  }
});

test('aborting stops the run and it says so', async () => {
  const s = await stack();
  try {
    const controller = new AbortController();
    const events = await collect(
      s.engine.run({ 'main.py': 'import time\nprint("go", flush=True)\ntime.sleep(30)' }, manifest, controller.signal),
      (e) => e.type === 'stdout' && controller.abort(),
    );
    const last = events.at(-1)!;
    assert.equal(last.type === 'exit' && last.reason?.code, 'stopped');
  } finally {
    await s.close();
  }
});

test('with no runner listening, a run fails fast as unreachable instead of hanging', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  server.close(); // nothing listens on this port any more
  const client = new RunnerClient({
    url: `ws://127.0.0.1:${port}/__runner?token=x`,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    connectTimeoutMs: 1500,
  });
  const started = Date.now();
  const events = await collect(new LocalEngine({ client }).run({ 'main.py': 'print(1)' }, manifest, new AbortController().signal));
  assert.ok(Date.now() - started < 3000);
  assert.deepEqual(events.at(-1), { type: 'error', code: 'runner-unreachable', message: "no runner answered on this page's server" });
});

test('after the runner restarts (new token), the client picks up the new URL and runs again', async () => {
  // First server, then a restart on the same port with a new token, as `npm start` would.
  const first = await stack();
  const port = first.port;
  let current = first;
  const client = new RunnerClient({
    url: first.url,
    refreshUrl: async () => current.url, // the page re-reads its meta tag
    createSocket: (url) => new WebSocket(url, { origin: `http://127.0.0.1:${port}` }) as unknown as SocketLike,
    connectTimeoutMs: 1500,
  });
  const engine = new LocalEngine({ client });
  try {
    const before = await collect(engine.run({ 'main.py': 'print("before")' }, manifest, new AbortController().signal));
    assert.equal(before.at(-1)!.type === 'exit' && (before.at(-1) as { code: number }).code, 0);
    await first.close();
    current = await stack(port);
    const after = await collect(engine.run({ 'main.py': 'print("after")' }, manifest, new AbortController().signal));
    assert.equal(after.filter((e) => e.type === 'stdout').map((e) => (e as { data: string }).data).join(''), 'after\n');
  } finally {
    await current.close();
  }
});
