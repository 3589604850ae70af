/**
 * The gateway's door and its smaller duties (issue 18): foreign or missing Origins refused 403
 * before any work; /healthz and /readyz; a waiting run stopped is taken off the queue and never
 * runs; a live preview reached cross-origin through the gateway (HTTP and WebSocket) with CORS for
 * the site, while the node's own preview endpoint refuses anyone without the fleet secret.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { startTestFleet, Page, scriptRun, siteOrigin, type TestFleet } from './helpers.ts';

let fleet: TestFleet;
let redis: Redis;
before(async () => {
  fleet = await startTestFleet({ nodes: 1, concurrency: 1 });
  redis = new Redis({ path: fleet.redis.socket });
});
after(async () => {
  redis?.disconnect();
  await fleet?.close();
});

function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

test('a foreign or missing Origin is refused 403, for the runner and for previews; health and readiness answer', async () => {
  assert.equal(await upgradeStatus(fleet.url, { Origin: 'https://evil.example' }), 403);
  assert.equal(await upgradeStatus(fleet.url, {}), 403);
  assert.equal(await upgradeStatus(fleet.url, { Origin: siteOrigin }), 101);
  const preview = `${fleet.httpBase}/__runner/preview/${'a'.repeat(43)}/`;
  assert.equal((await fetch(preview, { headers: { Origin: 'https://evil.example' } })).status, 403);
  assert.equal((await fetch(preview)).status, 403);
  assert.equal((await fetch(preview, { headers: { Origin: siteOrigin } })).status, 404);
  assert.equal((await fetch(`${fleet.httpBase}/healthz`)).status, 200);
  const ready = await fetch(`${fleet.httpBase}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true, nodes: 1 });
});

test('stop of a run still waiting takes it off the queue: it ends "stopped" and never runs', { timeout: 60_000 }, async () => {
  const page = new Page(fleet.url);
  await page.opened;
  page.run('holder', scriptRun('import time\nprint("holding", flush=True)\ntime.sleep(30)\n'));
  await page.waitFor((m) => m.type === 'stdout' && m.runId === 'holder');
  page.run('waiter', scriptRun('print("must not run")\n'));
  await page.waitFor((m) => m.type === 'queued' && m.runId === 'waiter', 10_000);
  page.stop('waiter');
  const exit = await page.exit('waiter', 10_000);
  assert.equal(exit.reason?.code, 'stopped');
  page.stop('holder');
  assert.equal((await page.exit('holder', 10_000)).reason?.code, 'stopped');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(page.stdoutOf('waiter'), '');
  const [, streams] = await redis.scan('0', 'MATCH', 'asynclab:run:*.waiter:events', 'COUNT', 10_000);
  const entries = streams.length ? await redis.xrange(streams[0]!, '-', '+') : [];
  assert.deepEqual(entries, [], 'no node ever took the stopped job');
  assert.equal(page.eventsOf('waiter').filter((e) => e.type === 'exit').length, 1);
  page.close();
});

const app = `
from fastapi import FastAPI, Request, WebSocket

app = FastAPI()


@app.get("/hello")
async def hello(request: Request):
    return {"headers": sorted(request.headers.keys()), "query": request.url.query}


@app.websocket("/ws")
async def ws(websocket: WebSocket):
    await websocket.accept()
    while True:
        await websocket.send_text("echo: " + await websocket.receive_text())
`;

test('a live preview through the gateway: HTTP and WebSocket from the site\'s origin, with CORS; the node refuses anyone without the secret', { timeout: 90_000 }, async () => {
  const page = new Page(fleet.url);
  await page.opened;
  page.run('server', { manifest: { id: 'probe', title: { en: 'probe', zh: '探针' }, language: 'python', kind: 'server', entry: 'main:app', load: [{ path: '/hello' }] }, files: { 'main.py': app }, preview: true });
  const ready = (await page.waitFor((m) => m.type === 'ready' && m.runId === 'server', 60_000)) as { preview?: { path: string } };
  assert.ok(ready.preview, 'the ready message names the preview');
  const base = `${fleet.httpBase}${ready.preview.path}`;

  const answer = await fetch(`${base}hello?x=1`, { headers: { Origin: siteOrigin } });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('access-control-allow-origin'), siteOrigin);
  const body = (await answer.json()) as { headers: string[]; query: string };
  assert.equal(body.query, 'x=1');
  assert.ok(!body.headers.some((h) => h.startsWith('x-asynclab')), `fleet headers reached the app: ${body.headers.join(', ')}`);

  const preflight = await fetch(`${base}hello`, { method: 'OPTIONS', headers: { Origin: siteOrigin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), siteOrigin);

  const echoed = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}ws`, { headers: { Origin: siteOrigin } });
    ws.once('open', () => ws.send('hi'));
    ws.once('message', (data) => {
      resolve(data.toString());
      ws.close();
    });
    ws.once('error', reject);
  });
  assert.equal(echoed, 'echo: hi');

  // The node's endpoint itself, as advertised in Redis: nothing without the fleet secret.
  const capability = ready.preview.path.split('/')[3]!;
  const route = JSON.parse((await redis.get(`asynclab:preview:${capability}`))!) as { url: string };
  assert.equal((await fetch(`${route.url}${ready.preview.path}hello`)).status, 403);
  assert.equal((await fetch(`${route.url}${ready.preview.path}hello`, { headers: { 'X-AsyncLab-Fleet-Secret': 'x'.repeat(43) } })).status, 403);

  page.stop('server');
  assert.equal((await page.exit('server', 15_000)).reason?.code, 'stopped');
  // Once the run ended its route is gone: the gateway no longer knows the preview.
  assert.equal(await redis.get(`asynclab:preview:${capability}`), null);
  assert.equal((await fetch(`${base}hello`, { headers: { Origin: siteOrigin } })).status, 404);
  page.close();
});
