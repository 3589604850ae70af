/**
 * The HTTP hardening suite of npm start's server (tests/runner/http-hardening, http-fuzz, and the
 * slow-loris and socket-cap tests of capacity.test.ts), run against the fleet (issue 18): the
 * gateway, and the node's preview endpoint behind it, as real processes. Malformed targets,
 * garbage and fuzzed requests, stray upgrades, CONNECT, slow clients, a flood of sockets, and a
 * preview app answering malformed heads through gateway → node. Each is answered or closed for
 * that connection alone; after each, both processes live and the gateway still serves a run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { prng, rawAnswerPath, rawPreviewApp, rawRequest, settleTo, type RawOutcome } from '../runner/http-helpers.ts';
import { httpServerOptions } from '../../src/server/app.ts';
import { keys, type PreviewRoute } from '../../src/fleet/contract.ts';
import { startTestFleet, Page, scriptRun, siteOrigin, type TestFleet } from './helpers.ts';

/** Low enough to reach cheaply here; the default (gateway.ts) is 4096. */
const socketCap = 200;

let fleet: TestFleet;
let gatewayPort: number;
let nodePort: number;
let base: string; // the raw preview app's /__runner/preview/<capability>/
let owner: Page; // the page that started the preview app

before(async () => {
  fleet = await startTestFleet({ nodes: 1, concurrency: 3, extraEnv: { ASYNCLAB_GATEWAY_MAX_CONNECTIONS: String(socketCap) } });
  gatewayPort = Number(new URL(fleet.httpBase).port);
  owner = new Page(fleet.url);
  await owner.opened;
  owner.run('raw', { ...rawPreviewApp(), preview: true });
  const ready = (await owner.waitFor((m) => (m.type === 'ready' || m.type === 'exit') && 'runId' in m && m.runId === 'raw', 60_000)) as { type: string; preview?: { path: string } };
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
  base = ready.preview!.path;
  const redis = new Redis({ path: fleet.redis.socket });
  try {
    const route = JSON.parse((await redis.get(keys.preview(base.split('/')[3]!)))!) as PreviewRoute;
    nodePort = Number(new URL(route.url).port);
  } finally {
    redis.disconnect();
  }
});
after(async () => {
  owner?.close();
  await fleet?.close();
});

const gatewayHost = () => `127.0.0.1:${gatewayPort}`;
const toGateway = (bytes: string | Buffer, opts?: Parameters<typeof rawRequest>[2]) => rawRequest(gatewayPort, bytes, opts);
const toNode = (bytes: string | Buffer, opts?: Parameters<typeof rawRequest>[2]) => rawRequest(nodePort, bytes, opts);
const get = (target: string, extra = '') => toGateway(`GET ${target} HTTP/1.1\r\nHost: ${gatewayHost()}\r\n${extra}Connection: close\r\n\r\n`);
const previewGet = (target: string) => get(target, `Origin: ${siteOrigin}\r\n`);
const fdsOf = (pid: number) => () => readdirSync(`/proc/${pid}/fd`).length;

/** The gateway and the node are alive, the preview app still answers, and a new page's run completes. */
async function stillServes(label: string): Promise<void> {
  for (const child of [fleet.gateway, ...fleet.nodes]) assert.equal(child.child.exitCode ?? child.child.signalCode, null, `${label}: ${child.label} is down`);
  assert.match((await previewGet(`${base}hello`)).text, /app ok$/, `${label}: the preview still serves`);
  const page = new Page(fleet.url);
  try {
    await page.opened;
    page.run('after', scriptRun(`print("still serving after ${label}")\n`));
    const exit = await page.exit('after', 60_000);
    assert.equal(exit.reason, null, `${label}: ${JSON.stringify(exit)}`);
    assert.equal(page.stdoutOf('after'), `still serving after ${label}\n`);
  } finally {
    page.close();
  }
}

test('malformed targets (bad escapes, //host, absolute URLs, absurd lengths) are a 4xx for that request, at the gateway and at the node', async () => {
  const long = `/${'a'.repeat(20_000)}`;
  const targets = ['/x%ff.png', '//host', '//%ff', '//evil.example/x', 'http://evil.example/x', '*', '/%', '/__runner/%ff', long, `/__runner/preview/${'%ff'.repeat(20)}/`, `${base}${'b'.repeat(20_000)}`];
  for (const target of targets) {
    for (const [where, send] of [['gateway', previewGet], ['node', (t: string) => toNode(`GET ${t} HTTP/1.1\r\nHost: 127.0.0.1:${nodePort}\r\nConnection: close\r\n\r\n`)]] as const) {
      const answer = await send(target);
      assert.ok(answer.status >= 400 && answer.status < 500, `${where} ${target.slice(0, 60)}: ${answer.text.slice(0, 200)}`);
    }
  }
  // A header of absurd length, and thousands of headers.
  const longHeader = await get('/healthz', `X-Long: ${'x'.repeat(40_000)}\r\n`);
  assert.deepEqual([longHeader.status, longHeader.closedByServer], [431, true], longHeader.text.slice(0, 200));
  const many = await get('/healthz', Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}\r\n`).join(''));
  assert.ok(many.status >= 400 && many.status < 500, many.text.slice(0, 200));
  assert.equal((await get('/healthz')).status, 200);
  await stillServes('malformed targets');
});

/** One random request for a fuzz: a valid head corrupted, a random one, or noise; `halfClose` when it may be incomplete. */
function fuzzed(r: ReturnType<typeof prng>, host: string): { bytes: Buffer; halfClose: boolean } {
  const method = r.pick(['GET', 'GET', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE', 'get', r.text(4)]);
  const target = r.pick([() => '/healthz', () => '/readyz', () => '/__runner', () => `${base}${r.pick(['hello', 'raw', '%ff', '..'])}`, () => `/${r.text(1 + r.int(30))}`, () => `//${r.text(6)}`, () => '*']);
  const version = r.chance(0.85) ? 'HTTP/1.1' : r.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', '', r.text(4)]);
  const lines = [`${method} ${target()} ${version}`.trimEnd(), `Host: ${r.chance(0.9) ? host : r.text(10)}`];
  if (r.chance(0.6)) lines.push(`Origin: ${r.pick([siteOrigin, 'http://evil.example', 'null', r.text(12)])}`);
  if (r.chance(0.3)) lines.push('Connection: Upgrade', `Upgrade: ${r.pick(['websocket', 'h2c', r.text(5)])}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==');
  if (r.chance(0.3)) lines.push(`${r.text(1 + r.int(10))}: ${r.text(r.int(20))}`);
  let complete = true;
  let body = Buffer.alloc(0);
  if (r.chance(0.2)) {
    body = r.bytes(r.int(64));
    lines.push(r.chance(0.7) ? `Content-Length: ${r.pick([String(body.length), String(body.length + 10), '-1', 'abc', '99999999999999999999'])}` : `Transfer-Encoding: ${r.pick(['chunked', 'gzip, chunked', r.text(5)])}`);
    complete = false;
  }
  if (r.chance(0.5)) lines.push('Connection: close');
  let bytes = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
  if (r.chance(0.15)) {
    bytes[r.int(bytes.length)] = r.int(256); // one byte anywhere
    complete = false;
  }
  if (r.chance(0.05)) {
    bytes = bytes.subarray(0, r.int(bytes.length)); // cut anywhere
    complete = false;
  }
  if (r.chance(0.05)) {
    bytes = r.bytes(1 + r.int(300)); // noise
    complete = false;
  }
  return { bytes, halfClose: !complete || r.chance(0.2) };
}

/** Runs `jobs` eight at a time. */
async function inParallel<T>(jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

test('garbage and fuzzed HTTP: every request answered or closed, no descriptor kept, at the gateway and at the node', async () => {
  const seed = Number(process.env.ASYNCLAB_FUZZ_SEED ?? 20_261_018);
  const r = prng(seed);
  const gatewayFds = fdsOf(fleet.gateway.child.pid!);
  const nodeFds = fdsOf(fleet.nodes[0]!.child.pid!);
  const before = { gateway: gatewayFds(), node: nodeFds() };
  const cases = [
    ...Array.from({ length: 600 }, () => ({ where: 'gateway', port: gatewayPort, ...fuzzed(r, gatewayHost()) })),
    ...Array.from({ length: 200 }, () => ({ where: 'node', port: nodePort, ...fuzzed(r, `127.0.0.1:${nodePort}`) })),
  ];
  const outcomes: RawOutcome[] = await inParallel(cases.map((c) => () => rawRequest(c.port, c.bytes, { halfClose: c.halfClose, untilAnswer: true, deadlineMs: 4_000 })));
  const hanging = outcomes.flatMap((o, i) => (o.status > 0 || o.closedByServer ? [] : [`${cases[i]!.where}: ${JSON.stringify(cases[i]!.bytes.toString('latin1').slice(0, 120))}`]));
  assert.deepEqual(hanging.slice(0, 5), [], `${hanging.length} of ${cases.length} left hanging (seed ${seed})`);
  const badLine = outcomes.filter((o) => o.status !== 0 && !/^HTTP\/1\.1 [1-5]\d\d [\t\x20-\x7e]*\r\n/.test(o.text));
  assert.deepEqual(badLine.map((o) => o.text.slice(0, 80)).slice(0, 3), [], 'every status line is well formed');
  const after = { gateway: await settleTo(gatewayFds, before.gateway + 4), node: await settleTo(nodeFds, before.node + 4) };
  assert.ok(after.gateway <= before.gateway + 4, `gateway fds ${before.gateway} → ${after.gateway}`);
  assert.ok(after.node <= before.node + 4, `node fds ${before.node} → ${after.node}`);
  await stillServes('the fuzz');
});

test('2000 stray upgrades to other paths are answered and closed; CONNECT is 405; the gateway\'s descriptors stay flat', { timeout: 120_000 }, async () => {
  const gatewayFds = fdsOf(fleet.gateway.child.pid!);
  const nodeFds = fdsOf(fleet.nodes[0]!.child.pid!);
  const before = { gateway: gatewayFds(), node: nodeFds() };
  const upgrade = (port: number, target: string, extra = '') =>
    rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`, { deadlineMs: 5_000 });
  const targets: Array<[string, string]> = [
    ['/x', ''], ['/', ''], ['/healthz', ''], ['/__runner/x', ''], ['/__runnerx', ''], ['//evil/x', ''], ['http://evil/x', ''], ['/%ff', ''],
    [`/__runner/preview/${'A'.repeat(43)}/`, `Origin: ${siteOrigin}\r\n`], [`${base}hello`, ''], ['/__runner', 'Origin: https://evil.example\r\n'],
  ];
  const wrong: string[] = [];
  // In waves under the socket cap; the client never closes its side: only the server can free these sockets.
  for (let start = 0; start < 2000; start += 50) {
    const wave = Array.from({ length: 50 }, (_, i) => targets[(start + i) % targets.length]!);
    const results = await Promise.all(wave.map(([target, extra]) => upgrade(gatewayPort, target, extra)));
    results.forEach((o, i) => {
      if (!o.closedByServer || o.status < 400 || o.status > 499) wrong.push(`${wave[i]![0]} → ${o.status} ${o.closedByServer ? 'closed' : 'left open'}`);
    });
  }
  // The node's endpoint: an upgrade without the fleet secret, to any path.
  for (let start = 0; start < 400; start += 50) {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => upgrade(nodePort, i % 2 ? `${base}hello` : '/x')));
    results.forEach((o) => {
      if (!o.closedByServer || o.status !== 403) wrong.push(`node → ${o.status} ${o.closedByServer ? 'closed' : 'left open'}`);
    });
  }
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} stray upgrades not answered 4xx and closed`);
  // The runner's own path, not a WebSocket; and CONNECT, at both.
  const h2c = await toGateway(`GET /__runner HTTP/1.1\r\nHost: ${gatewayHost()}\r\nOrigin: ${siteOrigin}\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n`);
  assert.deepEqual([h2c.status, h2c.closedByServer], [400, true]);
  for (const send of [toGateway, toNode]) {
    const tunnel = await send('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
    assert.deepEqual([tunnel.status, tunnel.closedByServer], [405, true]);
  }
  const after = { gateway: await settleTo(gatewayFds, before.gateway + 4), node: await settleTo(nodeFds, before.node + 4) };
  assert.ok(after.gateway <= before.gateway + 4, `gateway fds ${before.gateway} → ${after.gateway}`);
  assert.ok(after.node <= before.node + 4, `node fds ${before.node} → ${after.node}`);
  await stillServes('stray upgrades');
});

test('a hostile preview app answering malformed heads through gateway → node gets the page a 502 (or a clean answer), never a crash', async () => {
  const answer = (bytes: string) => previewGet(rawAnswerPath(base, Buffer.from(bytes, 'latin1')));
  const badReason = await answer('HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nhi');
  assert.ok(badReason.status === 200 || badReason.status === 502, badReason.text);
  if (badReason.status === 200) assert.match(badReason.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhi$/);
  for (const status of ['099', '000', '600', '999']) {
    const got = await answer(`HTTP/1.1 ${status} Odd\r\nContent-Length: 2\r\n\r\nhi`);
    assert.equal(got.status, 502, `${status}: ${got.text}`);
    assert.match(got.text, /X-AsyncLab-Preview-Refused: (bad-answer|unreachable)/i, status);
  }
  assert.equal((await answer('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')).status, 502);
  assert.equal((await answer('garbage, not HTTP at all\r\n\r\n')).status, 502);
  const fine = await answer('HTTP/1.1 200 OK\r\nX-Fine: yes\r\nContent-Length: 2\r\n\r\nhi');
  assert.equal(fine.status, 200);
  assert.match(fine.text, /x-fine: yes/i);
  // The same answers to a WebSocket upgrade (the tunnel's path through gateway and node).
  const upgrade = (target: string) =>
    toGateway(`GET ${target} HTTP/1.1\r\nHost: ${gatewayHost()}\r\nOrigin: ${siteOrigin}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  for (const bytes of ['HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 404 Not\x7fFound\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 101 Switching\x01 Protocols\r\n\r\n']) {
    const got = await upgrade(rawAnswerPath(base, Buffer.from(bytes, 'latin1')));
    assert.ok([200, 404, 502].includes(got.status) && got.closedByServer, `${JSON.stringify(bytes)} → ${got.text}`);
    assert.doesNotMatch(got.text.split('\r\n')[0]!, /[\x00-\x08\x7f]/, 'no control character in the status line');
  }
  await stillServes('a hostile preview app');
});

function watchClose(socket: Socket): Promise<{ afterMs: number; text: string }> {
  const started = Date.now();
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.on('close', () => resolve({ afterMs: Date.now() - started, text })));
}

test('slow-loris at the gateway and at the node (silent, dripping headers, dripping a body) is cut off by the timeouts while a reader\'s run completes', { timeout: 90_000 }, async () => {
  const drips: Array<{ where: string; kind: string; socket: Socket }> = [];
  for (const [where, port] of [['gateway', gatewayPort], ['node', nodePort]] as const) {
    const silent = connect(port, '127.0.0.1');
    const headers = connect(port, '127.0.0.1');
    const body = connect(port, '127.0.0.1');
    headers.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    // At the gateway, an upload to the live preview: it is passed on to the node as it comes.
    // At the node, the same upload as from a gateway (with the fleet secret), gone slow.
    const secret = where === 'node' ? `X-AsyncLab-Fleet-Secret: ${fleet.env.ASYNCLAB_FLEET_SECRET}\r\n` : '';
    body.write(`POST ${base}hello HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${siteOrigin}\r\n${secret}Content-Length: 100000\r\n\r\n`);
    drips.push({ where, kind: 'silent', socket: silent }, { where, kind: 'dripping headers', socket: headers }, { where, kind: 'dripping body', socket: body });
  }
  const closes = drips.map((d) => watchClose(d.socket));
  const drip = setInterval(() => {
    for (const d of drips) if (d.kind !== 'silent' && d.socket.writable) d.socket.write(d.kind === 'dripping headers' ? 'X-Slow: 1\r\n' : 'x');
  }, 500);
  try {
    await stillServes('slow clients started');
    const closed = await Promise.all(closes);
    const slack = httpServerOptions.connectionsCheckingInterval + 1_500;
    const timings: string[] = [];
    closed.forEach((c, i) => {
      const { where, kind } = drips[i]!;
      const limit = (kind === 'dripping body' ? httpServerOptions.requestTimeout : httpServerOptions.headersTimeout) + slack;
      assert.ok(c.afterMs <= limit, `${where}, ${kind}: closed after ${c.afterMs} ms (limit ${limit})`);
      if (kind === 'dripping headers') assert.match(c.text, /^HTTP\/1\.1 408/, `${where}, ${kind}`);
      timings.push(`${where} ${kind} ${c.afterMs} ms`);
    });
    console.log(`slow-loris closed: ${timings.join(', ')}`);
  } finally {
    clearInterval(drip);
    for (const d of drips) d.socket.destroy();
  }
  await stillServes('slow clients cut off');
});

test(`too many sockets: beyond ${socketCap} open at once the gateway closes new ones at once, and serves again once they go`, async () => {
  const sockets = Array.from({ length: socketCap + 30 }, () => connect(gatewayPort, '127.0.0.1'));
  const closed = sockets.map(watchClose);
  let dropped = 0;
  for (const c of closed) void c.then(() => (dropped += 1));
  try {
    const deadline = Date.now() + 5_000;
    while (dropped < 30 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(dropped >= 30, `${dropped} of the connections beyond the cap were closed at once`);
    // The page connected before the flood keeps its connection and its preview.
    assert.equal(owner.closeCode, undefined, 'the owner page was not dropped');
  } finally {
    for (const socket of sockets) socket.destroy();
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  await stillServes('a flood of sockets');
});
