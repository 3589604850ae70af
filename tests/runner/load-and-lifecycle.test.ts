/**
 * Many clients at once, disconnects and shutdown, through the real WebSocket mount;
 * and the FastAPI sandbox whose timings the course is built on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { loadSandbox } from '../../src/sandbox/load-sandbox.ts';
import { newToken } from '../../src/runner/gate.ts';
import { defaultLimits } from '../../src/runner/limits.ts';
import type { ServerMessage } from '../../src/protocol/messages.ts';
import { Runner } from '../../src/runner/runner.ts';
import { mountRunner } from '../../src/runner/ws.ts';
import { processesWith, python, requestDurations, runToEnd } from './helpers.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { spansOf } from '../../src/timeline/summary.ts';

async function startStack(limits = defaultLimits) {
  const runner = await Runner.start({ limits });
  const server = createServer();
  const token = newToken();
  const mounted = mountRunner(server, { runner, token, log: () => undefined });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const open = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/__runner?token=${token}`, { origin: `http://127.0.0.1:${port}` });
    const messages: ServerMessage[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, messages };
  };
  const stop = async () => {
    await runner.close(); // runs end first, so their clients still hear why
    await mounted.close();
    server.close();
  };
  return { runner, open, stop };
}

const until = async (check: () => boolean, ms: number, what: string) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

test('50 clients × 4 runs: each run completes or is refused as busy; output reaches only its own client, once', async () => {
  const stack = await startStack({ ...defaultLimits, concurrency: 4, queue: 40 });
  try {
    const clients = await Promise.all(Array.from({ length: 50 }, () => stack.open()));
    clients.forEach((client, c) => {
      for (let r = 0; r < 4; r++) {
        const word = `c${c}r${r}`;
        const { manifest, files } = python(`print("${word}-" * 3)\n`);
        client.ws.send(JSON.stringify({ type: 'run', runId: word, manifest, files }));
      }
    });
    const exits = () => clients.reduce((n, client) => n + client.messages.filter((m) => m.type === 'exit').length, 0);
    await until(() => exits() === 200, 120_000, 'all 200 runs to end');
    let completed = 0;
    let busy = 0;
    clients.forEach((client, c) => {
      for (let r = 0; r < 4; r++) {
        const word = `c${c}r${r}`;
        const mine = client.messages.filter((m) => 'runId' in m && m.runId === word);
        const ends = mine.filter((m) => m.type === 'exit');
        assert.equal(ends.length, 1, `${word}: exactly one exit`);
        const end = ends[0]!;
        assert.equal(mine.at(-1), end, `${word}: exit comes last`);
        if (end.type === 'exit' && end.reason?.code === 'busy') {
          busy += 1;
          assert.match(end.reason.message, /busy/);
          continue;
        }
        assert.equal(end.type === 'exit' && end.reason, null, `${word}: ${JSON.stringify(end)}`);
        const stdout = mine.flatMap((m) => (m.type === 'stdout' ? [m.data] : [])).join('');
        assert.equal(stdout, `${word}-${word}-${word}-\n`, `${word}: output whole, once`);
        completed += 1;
      }
      // Nothing addressed to another client's runs.
      const foreign = client.messages.filter((m) => 'runId' in m && !m.runId.startsWith(`c${c}r`));
      assert.deepEqual(foreign, [], `client ${c} got another client's messages`);
    });
    assert.equal(completed + busy, 200);
    assert.ok(completed >= 44, `only ${completed} completed (4 running + 40 queued fit at once)`);
    console.log(`load: ${completed} completed, ${busy} refused as busy`);
    clients.forEach((client) => client.ws.close());
  } finally {
    await stack.stop();
  }
});

test('a client that disconnects mid-run takes its run down with it', async () => {
  const stack = await startStack();
  try {
    const marker = `disconnect-marker-${Date.now()}`;
    const client = await stack.open();
    const { manifest, files } = python(`import os, sys\nprint("up", flush=True)\nos.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "${marker}"])\n`);
    client.ws.send(JSON.stringify({ type: 'run', runId: 'doomed', manifest, files }));
    await until(() => client.messages.some((m) => m.type === 'stdout'), 10_000, 'the run to start');
    await until(() => processesWith(marker).length > 0, 5_000, 'the sandbox process');
    client.ws.terminate();
    await until(() => processesWith(marker).length === 0, 5_000, 'the sandbox to be killed');
    await until(() => stack.runner.stats.running === 0, 5_000, 'the pool to free');
  } finally {
    await stack.stop();
  }
});

test('shutting the runner down kills every run', async () => {
  const stack = await startStack();
  const marker = `shutdown-marker-${Date.now()}`;
  const client = await stack.open();
  for (let i = 0; i < 3; i++) {
    const { manifest, files } = python(`import os, sys\nos.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "${marker}"])\n`);
    client.ws.send(JSON.stringify({ type: 'run', runId: `run${i}`, manifest, files }));
  }
  await until(() => processesWith(marker).length === 3, 10_000, 'three sandboxes');
  await stack.stop();
  assert.deepEqual(processesWith(marker), []);
  await until(() => client.messages.filter((m) => m.type === 'exit').length === 3, 2_000, 'the exits');
  const exits = client.messages.filter((m) => m.type === 'exit');
  assert.equal(exits.length, 3);
  assert.ok(exits.every((m) => m.type === 'exit' && m.reason?.code === 'stopped'));
});

test('FastAPI: async sleep and def sleep finish in about 1 s; a blocking call in async def serialises to about 5 s', async () => {
  const runner = await Runner.start();
  try {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const sandbox = await loadSandbox(path.join(root, 'sandboxes'), 'async-def-vs-def', root);
    const result = await runToEnd(runner, sandbox);
    assert.equal(result.exit.reason, null, result.stderr);
    assert.equal(result.exit.code, 0);
    assert.ok(result.events.some((e) => e.type === 'ready'));
    const requests = spansOf(buildModel(result.trace), 'request');
    assert.ok(requests.length === 15 && requests.every((s) => s.args.status === 200 && !s.open));
    const durations = (p: string) => requestDurations(result, p);
    const asyncSleep = durations('/async-sleep');
    const syncSleep = durations('/sync-sleep');
    const blocking = durations('/async-blocking');
    for (const [name, list] of Object.entries({ asyncSleep, syncSleep, blocking })) assert.equal(list.length, 5, name);
    // Concurrent: every one of the five ends within ~1 s.
    assert.ok(asyncSleep.every((ms) => ms >= 950 && ms < 1600), `async def + asyncio.sleep: ${asyncSleep}`);
    assert.ok(syncSleep.every((ms) => ms >= 950 && ms < 1600), `def + time.sleep: ${syncSleep}`);
    // Serial: a staircase, the last one waits for all the others (~5 s).
    assert.ok(blocking.at(-1)! >= 4700 && blocking.at(-1)! < 6500, `async def + time.sleep: ${blocking}`);
    blocking.forEach((ms, i) => assert.ok(Math.abs(ms - (i + 1) * 1000) < 450, `step ${i + 1}: ${ms} ms`));
  } finally {
    await runner.close();
  }
});

test('Node server: hashes in libuv\'s pool overlap, hashes on the loop serialise and block it (same harness, same trace vocabulary)', async () => {
  const runner = await Runner.start();
  try {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const sandbox = await loadSandbox(path.join(root, 'sandboxes'), 'async-def-vs-def-node', root);
    const result = await runToEnd(runner, sandbox);
    assert.equal(result.exit.reason, null, result.stderr);
    assert.ok(result.events.some((e) => e.type === 'ready'));
    const model = buildModel(result.trace);
    const inPool = spansOf(model, 'handler', '/hash-in-pool');
    const onLoop = spansOf(model, 'handler', '/hash-on-loop').sort((a, b) => a.start - b.start);
    assert.equal(inPool.length, 4);
    assert.equal(onLoop.length, 4);
    // pbkdf2 in libuv's pool: the four handlers are all in progress at one moment.
    const latestStart = Math.max(...inPool.map((s) => s.start));
    const earliestEnd = Math.min(...inPool.map((s) => s.end));
    assert.ok(latestStart < earliestEnd, `pool handlers did not all overlap: last start ${latestStart}, first end ${earliestEnd}`);
    // pbkdf2Sync on the loop: each handler starts after the previous one ended...
    onLoop.slice(1).forEach((s, i) => assert.ok(s.start >= onLoop[i]!.end, `loop handler ${i + 2} started before ${i + 1} ended`));
    // ...and the loop lane names it as the culprit for most of their time.
    const blocked = spansOf(model, 'loop', '/hash-on-loop').reduce((sum, s) => sum + (s.end - s.start), 0);
    const handled = onLoop.reduce((sum, s) => sum + (s.end - s.start), 0);
    assert.ok(blocked >= 0.8 * handled, `loop blocked ${blocked} µs of ${handled} µs of /hash-on-loop handlers`);
  } finally {
    await runner.close();
  }
});

test('current FastAPI code runs on Debian FastAPI: FastAPI(lifespan=...) starts and stops (harness shim)', async () => {
  const runner = await Runner.start();
  try {
    const source = `from contextlib import asynccontextmanager
from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.greeting = "set at startup"
    print("startup ran", flush=True)
    yield
    print("shutdown ran", flush=True)


app = FastAPI(lifespan=lifespan)


@app.get("/")
async def read():
    return {"greeting": app.state.greeting}
`;
    const result = await runToEnd(runner, {
      manifest: { id: 'lifespan', title: { en: 'l', zh: 'l' }, language: 'python', kind: 'server', entry: 'main:app', load: [{ path: '/' }] },
      files: { 'main.py': source },
    });
    assert.equal(result.exit.reason, null, result.stderr);
    assert.match(result.stdout, /startup ran[\s\S]*set at startup[\s\S]*shutdown ran/);
  } finally {
    await runner.close();
  }
});
