/**
 * Live preview: a server sandbox run with `preview` keeps serving after its load and is reached
 * through /__runner/preview/<capability>/… — HTTP, server-sent events and WebSockets — only with
 * its own capability, behind the runner's gate, until the run ends. Real runner, real sandboxes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { newToken } from '../../src/runner/gate.ts';
import { defaultLimits } from '../../src/runner/limits.ts';
import type { ServerMessage } from '../../src/protocol/messages.ts';
import { Runner } from '../../src/runner/runner.ts';
import { mountRunner, type MountedRunner } from '../../src/runner/ws.ts';
import { previewLimits } from '../../src/runner/preview/proxy.ts';
import { messageInbox, node, python } from './helpers.ts';

const app = `
import asyncio
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import PlainTextResponse, StreamingResponse

app = FastAPI()
NAME = "__NAME__"


@app.get("/hello")
async def hello(request: Request):
    h = request.headers
    return {"app": NAME, "host": h.get("host"), "cookie": h.get("cookie"), "token": h.get("x-asynclab-token"), "query": request.url.query}


@app.post("/echo")
async def echo(request: Request):
    return {"got": await request.json()}


@app.get("/cookie")
async def cookie():
    response = PlainTextResponse("set")
    response.set_cookie("session", "sandbox")
    return response


@app.get("/events")
async def events():
    async def stream():
        for i in range(5):
            yield f"id: {i}\\ndata: event {i}\\n\\n"
            await asyncio.sleep(0.3)
    return StreamingResponse(stream(), media_type="text/event-stream")


@app.websocket("/ws")
async def ws(websocket: WebSocket):
    await websocket.accept()
    while True:
        text = await websocket.receive_text()
        await websocket.send_text(f"{NAME} echo: {text}")
`;

const pythonApp = (name: string) => {
  const request = python(app.replace('__NAME__', name), { kind: 'server', entry: 'main:app', load: [{ path: '/hello' }] });
  return { ...request, files: { 'main.py': request.files['main.py']! } };
};

interface Site {
  runner: Runner;
  server: Server;
  mounted: MountedRunner;
  port: number;
  token: string;
}

async function startSite(limits = defaultLimits): Promise<Site> {
  const runner = await Runner.start({ limits });
  const token = newToken();
  let mounted: MountedRunner | undefined;
  const server = createServer((req, res) => {
    if (mounted?.handleRequest(req, res)) return;
    res.end('site');
  });
  mounted = mountRunner(server, { runner, token, log: () => undefined });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { runner, server, mounted, port: (server.address() as AddressInfo).port, token };
}

async function stopSite(site: Site): Promise<void> {
  await site.runner.close();
  await site.mounted.close();
  site.server.closeAllConnections();
  await new Promise((resolve) => site.server.close(resolve));
}

/** A page's runner connection: send messages, wait for ones that match. */
async function page(site: Site) {
  const ws = new WebSocket(`ws://127.0.0.1:${site.port}/__runner?token=${site.token}`, { origin: `http://127.0.0.1:${site.port}` });
  const { inbox, next } = messageInbox(ws, 20_000);
  await new Promise((resolve) => ws.once('open', resolve));
  const run = async (runId: string, req: { manifest: unknown; files: Record<string, string> }, preview = true) => {
    ws.send(JSON.stringify({ type: 'run', runId, ...req, ...(preview ? { preview: true } : {}) }));
    return (await next((m) => (m.type === 'ready' || m.type === 'exit') && m.runId === runId)) as Extract<ServerMessage, { type: 'ready' | 'exit' }>;
  };
  const stop = async (runId: string) => {
    ws.send(JSON.stringify({ type: 'stop', runId }));
    return next((m) => m.type === 'exit' && m.runId === runId);
  };
  return { ws, inbox, next, run, stop };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the path sent exactly as given (no normalisation), as the page would send it unless overridden. */
function send(site: Site, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; noToken?: boolean } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(opts.noToken ? {} : { 'X-AsyncLab-Token': site.token }), ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: site.port, method: opts.method ?? 'GET', path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Raw bytes on a fresh connection; resolves with the status code of the answer (0 if none). */
function raw(site: Site, text: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(site.port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
    socket.write(text);
    setTimeout(() => socket.destroy(), 3000);
  });
}

/** Opens a WebSocket through the proxy; resolves with the socket, or the HTTP status it was refused with. */
function openWs(site: Site, path: string, opts: { origin?: string; token?: string | null } = {}): Promise<WebSocket | number> {
  const token = opts.token === undefined ? site.token : opts.token;
  const query = token === null ? '' : `${path.includes('?') ? '&' : '?'}__asynclab_token=${encodeURIComponent(token)}`;
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${site.port}${path}${query}`, { origin: opts.origin ?? `http://127.0.0.1:${site.port}` });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));
}

let site: Site;
let main: Awaited<ReturnType<typeof page>>;
let base: string; // /__runner/preview/<capability>/

before(async () => {
  site = await startSite();
  assert.equal(site.runner.isolation, 'bwrap', 'these tests need real isolation');
  main = await page(site);
  const ready = await main.run('main', pythonApp('A'));
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
  assert.match(ready.type === 'ready' ? (ready.preview?.path ?? '') : '', /^\/__runner\/preview\/[A-Za-z0-9_-]{43}\/$/);
  base = ready.type === 'ready' ? ready.preview!.path : '';
});
after(async () => {
  await stopSite(site);
});

test('a preview run answers HTTP through the proxy: the app sees a local client, never the cookie or the token', async () => {
  const hello = await send(site, `${base}hello?x=1&__asynclab_token=leak`, { headers: { Cookie: 'jupyter=secret' } });
  assert.equal(hello.status, 200, hello.body);
  const json = JSON.parse(hello.body);
  assert.equal(json.app, 'A');
  assert.match(json.host, /^127\.0\.0\.1:\d+$/);
  assert.equal(json.cookie, null);
  assert.equal(json.token, null);
  assert.equal(json.query, 'x=1');
  assert.equal(hello.headers['content-security-policy'], "sandbox; default-src 'none'");
  assert.equal(hello.headers['x-content-type-options'], 'nosniff');

  const echo = await send(site, `${base}echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ n: 1 }) });
  assert.equal(echo.status, 200, echo.body);
  assert.deepEqual(JSON.parse(echo.body), { got: { n: 1 } });

  const cookie = await send(site, `${base}cookie`);
  assert.equal(cookie.status, 200);
  assert.equal(cookie.headers['set-cookie'], undefined, 'a sandbox cannot set cookies on 127.0.0.1');

  const missing = await send(site, `${base}nope`);
  assert.equal(missing.status, 404, 'the app’s own 404 passes through');
  assert.equal(missing.headers['x-asynclab-preview-refused'], undefined);
});

test('server-sent events stream through the proxy as they are sent', async () => {
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${site.port}${base}events`, { headers: { 'X-AsyncLab-Token': site.token } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = res.body!.getReader();
  const arrivals: Array<{ at: number; text: string }> = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    arrivals.push({ at: Date.now() - started, text: new TextDecoder().decode(value) });
  }
  const all = arrivals.map((a) => a.text).join('');
  assert.equal((all.match(/^data: event \d$/gm) ?? []).length, 5, all);
  const first = arrivals.find((a) => a.text.includes('event 0'))!;
  const end = arrivals.at(-1)!.at;
  assert.ok(end - first.at > 900, `first event at ${first.at} ms, stream ended at ${end} ms: not streamed`);
});

test('a WebSocket round-trips through the proxy', async () => {
  const ws = await openWs(site, `${base}ws`);
  assert.ok(ws instanceof WebSocket, `refused with ${String(ws)}`);
  const reply = nextMessage(ws);
  ws.send('hi');
  assert.equal(await reply, 'A echo: hi');
  const again = nextMessage(ws);
  ws.send('x'.repeat(100_000));
  assert.equal((await again).length, 'A echo: '.length + 100_000);
  ws.close();
});

test('wrong, malformed or missing capabilities and tokens are refused', async () => {
  const fake = `/__runner/preview/${'A'.repeat(43)}/hello`;
  assert.equal((await send(site, fake)).status, 404);
  assert.equal((await send(site, '/__runner/preview/short/hello')).status, 404);
  assert.equal((await send(site, '/__runner/preview/')).status, 404);
  const noToken = await send(site, `${base}hello`, { noToken: true });
  assert.equal(noToken.status, 401);
  assert.equal(noToken.headers['x-asynclab-preview-refused'], 'token');
  assert.equal((await send(site, `${base}hello`, { headers: { 'X-AsyncLab-Token': `${site.token}x` } })).status, 401);
  // The token in the query is for WebSockets only.
  assert.equal((await send(site, `${base}hello?__asynclab_token=${site.token}`, { noToken: true })).status, 401);
  assert.equal(await openWs(site, `${base}ws`, { token: null }), 401);
  assert.equal(await openWs(site, `${base}ws`, { token: 'nope' }), 401);
  assert.equal(await openWs(site, `/__runner/preview/${'B'.repeat(43)}/ws`), 404);
});

test('foreign Origins, cross-site fetches and rebinding Hosts are refused', async () => {
  for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${site.port + 1}`]) {
    assert.equal((await send(site, `${base}hello`, { headers: { Origin: origin } })).status, 403, origin);
    assert.equal(await openWs(site, `${base}ws`, { origin }), 403, origin);
  }
  assert.equal((await send(site, `${base}hello`, { headers: { Origin: `http://127.0.0.1:${site.port}` } })).status, 200);
  assert.equal((await send(site, `${base}hello`, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status, 403);
  assert.equal((await send(site, `${base}hello`, { headers: { 'Sec-Fetch-Site': 'same-origin' } })).status, 200);
  assert.equal((await send(site, `${base}hello`, { headers: { Host: `rebind.evil:${site.port}` } })).status, 403);
});

test('path tricks, absolute URLs, CONNECT and odd methods are refused', async () => {
  for (const trick of ['../hello', '%2e%2e/hello', '.%2E/hello', 'a/../../hello', 'a%2fb', 'a%2Fb', 'a%5cb', 'a\\b', '%00', './hello', '/evil.example/hello', '%zz']) {
    const answer = await send(site, `${base}${trick}`);
    assert.equal(answer.status, 400, `${trick}: ${answer.status} ${answer.body}`);
    assert.equal(answer.headers['x-asynclab-preview-refused'], 'bad-path', trick);
  }
  const cap = base.split('/')[3]!;
  // Escaping the capability's prefix altogether.
  assert.equal((await send(site, `/__runner/preview/${cap}/../${cap}/hello`)).status, 400);
  const host = `127.0.0.1:${site.port}`;
  assert.equal(await raw(site, `GET http://${host}${base}hello HTTP/1.1\r\nHost: ${host}\r\nX-AsyncLab-Token: ${site.token}\r\nConnection: close\r\n\r\n`), 400);
  assert.equal(await raw(site, `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`), 405);
  assert.equal((await send(site, `${base}hello`, { method: 'TRACE' })).status, 405);
  // An upgrade that is not a WebSocket.
  assert.equal(await raw(site, `GET ${base}hello?__asynclab_token=${site.token} HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n`), 400);
});

test('oversized headers and bodies are refused', async () => {
  const big = await send(site, `${base}hello`, { headers: { 'X-Filler': 'x'.repeat(9 * 1024) } });
  assert.equal(big.status, 431);
  const body = await send(site, `${base}echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: Buffer.alloc(1024 * 1024 + 1, 0x20) });
  assert.equal(body.status, 413);
  assert.equal((await send(site, `${base}hello`)).status, 200, 'still serving');
});

test('a run serves at most its share of preview connections at once; the rest are refused, then served again', async () => {
  const headers = { 'X-AsyncLab-Token': site.token };
  // Each /events stream stays open ≈1.5 s: hold every allowed connection.
  const held = await Promise.all(
    Array.from({ length: previewLimits.connectionsPerRun }, () => fetch(`http://127.0.0.1:${site.port}${base}events`, { headers })),
  );
  assert.ok(held.every((r) => r.status === 200));
  const extra = await fetch(`http://127.0.0.1:${site.port}${base}hello`, { headers });
  assert.equal(extra.status, 503);
  assert.equal(extra.headers.get('x-asynclab-preview-refused'), 'busy');
  await Promise.all(held.map((r) => r.body!.cancel()));
  let again = 503;
  for (let i = 0; i < 40 && again === 503; i += 1) {
    again = (await fetch(`http://127.0.0.1:${site.port}${base}hello`, { headers })).status;
    if (again === 503) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(again, 200, 'closed connections give their places back');
});

test('a capability reaches only its own run; another page’s run ends and its capability with it', async () => {
  const other = await page(site);
  const ready = await other.run('b', pythonApp('B'));
  assert.equal(ready.type, 'ready');
  const otherBase = ready.type === 'ready' ? ready.preview!.path : '';
  assert.notEqual(otherBase, base);
  assert.equal(JSON.parse((await send(site, `${otherBase}hello`)).body).app, 'B');
  assert.equal(JSON.parse((await send(site, `${base}hello`)).body).app, 'A');

  // A stream open when the run ends is cut.
  const stream = await fetch(`http://127.0.0.1:${site.port}${otherBase}events`, { headers: { 'X-AsyncLab-Token': site.token } });
  const reading = stream.text().then(
    (text) => ({ ok: true, text }),
    () => ({ ok: false, text: '' }),
  );
  other.ws.close(); // the page leaves: its runs end
  const cut = await reading;
  assert.ok(!cut.ok || (cut.text.match(/event \d/g) ?? []).length < 5, 'the stream ended with the run');

  for (let i = 0; i < 100; i++) {
    if ((await send(site, `${otherBase}hello`)).status === 410) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const gone = await send(site, `${otherBase}hello`);
  assert.equal(gone.status, 410, 'the ended run’s capability');
  assert.equal(gone.headers['x-asynclab-preview-refused'], 'ended');
  assert.equal(await openWs(site, `${otherBase}ws`), 410);
  assert.equal(JSON.parse((await send(site, `${base}hello`)).body).app, 'A', 'the first page’s run is untouched');
});

test('Stop ends a preview run, and its capability is refused afterwards', async () => {
  const p = await page(site);
  const ready = await p.run('s', pythonApp('S'));
  const path = ready.type === 'ready' ? ready.preview!.path : '';
  assert.equal((await send(site, `${path}hello`)).status, 200);
  // It is still serving after its load (one request) is long done.
  await p.next((m) => m.type === 'stdout' && m.data.includes('keeps running for the live preview'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await send(site, `${path}hello`)).status, 200);
  const exit = await p.stop('s');
  assert.equal(exit.type === 'exit' && exit.reason?.code, 'stopped');
  assert.equal((await send(site, `${path}hello`)).status, 410);
  p.ws.close();
});

test('a Node server sandbox has a live preview too', async () => {
  const p = await page(site);
  const source = `import { createServer } from 'node:http';
export default createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ node: true, url: req.url }));
});
`;
  const request = node(source, { kind: 'server', entry: 'server.mjs', load: [{ path: '/' }] });
  const ready = await p.run('n', { manifest: request.manifest, files: { 'server.mjs': source } });
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
  const path = ready.type === 'ready' ? ready.preview!.path : '';
  const answer = await send(site, `${path}items/3?q=x`);
  assert.equal(answer.status, 200, answer.body);
  assert.deepEqual(JSON.parse(answer.body), { node: true, url: '/items/3?q=x' });
  await p.stop('n');
  p.ws.close();
});

test('without preview nothing changes: the run ends after its load, and ready has no preview', async () => {
  const p = await page(site);
  const ready = await p.run('plain', pythonApp('P'), false);
  assert.equal(ready.type, 'ready');
  assert.ok(!('preview' in ready), JSON.stringify(ready));
  const exit = await p.next((m) => m.type === 'exit' && m.runId === 'plain');
  assert.equal(exit.type === 'exit' && exit.code, 0);
  assert.equal(exit.type === 'exit' && exit.reason, null);
  const stdout = p.inbox.flatMap((m) => (m.type === 'stdout' && m.runId === 'plain' ? [m.data] : [])).join('');
  assert.doesNotMatch(stdout, /live preview/);
  // A preview is for servers only.
  p.ws.send(JSON.stringify({ type: 'run', runId: 'script', ...python('print(1)\n'), preview: true }));
  const refused = await p.next((m) => m.type === 'exit' && m.runId === 'script');
  assert.equal(refused.type === 'exit' && refused.reason?.code, 'bad-request');
  p.ws.close();
});

test('the wall-time limit still ends a preview run', async () => {
  const short = await startSite({ ...defaultLimits, wallMsPreview: 5000 });
  try {
    const p = await page(short);
    const ready = await p.run('w', pythonApp('W'));
    const path = ready.type === 'ready' ? ready.preview!.path : '';
    const exit = await p.next((m) => m.type === 'exit' && m.runId === 'w');
    assert.equal(exit.type === 'exit' && exit.reason?.code, 'timeout', JSON.stringify(exit));
    assert.ok(exit.type === 'exit' && exit.durationMs >= 4900 && exit.durationMs < 9000, JSON.stringify(exit));
    assert.equal((await send(short, `${path}hello`)).status, 410);
    assert.equal(short.runner.previews.size, 0);
    assert.deepEqual(readdirSync(short.runner.workRoot).filter((f) => f.startsWith('preview-')), [], 'no socket left');
    p.ws.close();
  } finally {
    await stopSite(short);
  }
});

test('a gunicorn-served sandbox (worker processes) has a live preview too', async () => {
  const p = await page(site);
  const request = pythonApp('G');
  const files = { ...request.files, 'gunicorn.conf.py': 'workers = 2\nworker_class = "uvicorn.workers.UvicornWorker"\n' };
  const ready = await p.run('g', { manifest: request.manifest, files });
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
  const path = ready.type === 'ready' ? ready.preview!.path : '';
  await p.next((m) => m.type === 'stdout' && m.runId === 'g' && m.data.includes('keeps running for the live preview'));
  const answer = await send(site, `${path}hello`);
  assert.equal(answer.status, 200, answer.body);
  assert.equal(JSON.parse(answer.body).app, 'G');
  const exit = await p.stop('g');
  assert.equal(exit.type === 'exit' && exit.reason?.code, 'stopped');
  p.ws.close();
});
