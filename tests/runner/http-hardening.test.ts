/**
 * Issue 15, items 1–3, reproduced as found against npm start's own server (src/server/app.ts)
 * with the real runner mounted: one request that used to end the process, a preview app whose
 * malformed answer used to end it through the proxy, and upgrades nobody answered that used to
 * hold a file descriptor each for as long as the client liked. Each must now be answered (400,
 * 502, 404) for that request only, and the server keep serving.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connections, openFds, page, rawAnswerPath, rawPreviewApp, rawRequest, settleTo, startApp, type App } from './http-helpers.ts';

let app: App;
let base: string; // the raw preview app's /__runner/preview/<capability>/
let pageConnection: Awaited<ReturnType<typeof page>>;

before(async () => {
  app = await startApp();
  assert.equal(app.runner.isolation, 'bwrap', 'these tests need real isolation');
  pageConnection = await page(app);
  const ready = await pageConnection.run('raw', rawPreviewApp());
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
  base = ready.type === 'ready' ? ready.preview!.path : '';
});
after(async () => {
  pageConnection.ws.close();
  await app.stop();
});

const get = (target: string, extra = '') => rawRequest(app.port, `GET ${target} HTTP/1.1\r\nHost: ${app.host}\r\n${extra}Connection: close\r\n\r\n`);
const previewGet = (target: string) => get(target, `X-AsyncLab-Token: ${app.token}\r\n`);
const stillServing = async () => {
  assert.equal((await get('/en/lessons/one/')).status, 200, 'the site still serves');
  assert.match((await previewGet(`${base}hello`)).text, /app ok$/, 'the preview still serves');
};

test('item 1: GET /x%ff.png is a 400 for that request; the server keeps serving', async () => {
  const answer = await get('/x%ff.png');
  assert.equal(answer.status, 400, answer.text);
  assert.equal((await get('//%ff')).status, 400);
  assert.equal((await get('/_astro/app.abc123.js', 'Range: bytes=5-2\r\n')).status, 200);
  assert.equal((await rawRequest(app.port, `GET / HTTP/1.1\r\nHost: rebind.evil:${app.port}\r\nConnection: close\r\n\r\n`)).status, 421);
  await stillServing();
  assert.deepEqual(app.guardLog, [], 'handled by the site itself, not by the guard');
});

test('item 2: a preview app answering a malformed status line gets a valid answer or a 502, never a crash', async () => {
  const answer = (bytes: string, via = previewGet) => via(rawAnswerPath(base, Buffer.from(bytes, 'latin1')));
  // The reason with a control character: the status stands, the reason is the standard one.
  const badReason = await answer('HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nhi');
  assert.ok(badReason.status === 200 || badReason.status === 502, badReason.text);
  if (badReason.status === 200) assert.match(badReason.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhi$/);
  for (const status of ['099', '000', '600', '999']) {
    const got = await answer(`HTTP/1.1 ${status} Odd\r\nContent-Length: 2\r\n\r\nhi`);
    assert.equal(got.status, 502, `${status}: ${got.text}`);
    assert.match(got.text, /X-AsyncLab-Preview-Refused: (bad-answer|unreachable)/i, status);
  }
  // A 101 to a plain request: Node's client drops it with no event at all; the page still gets its 502.
  assert.equal((await answer('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')).status, 502);
  // Headers the page must not see are dropped; the answer goes through.
  const obs = await answer('HTTP/1.1 200 OK\r\nX-Fine: yes\r\nContent-Length: 2\r\n\r\nhi');
  assert.equal(obs.status, 200);
  assert.match(obs.text, /x-fine: yes/i);
  // The same answers to a WebSocket upgrade through the proxy (the tunnel's path).
  const upgrade = (target: string) =>
    rawRequest(app.port, `GET ${target}&__asynclab_token=${app.token} HTTP/1.1\r\nHost: ${app.host}\r\nOrigin: http://${app.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  for (const bytes of ['HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 404 Not\x7fFound\r\nContent-Length: 0\r\n\r\n']) {
    const got = await upgrade(rawAnswerPath(base, Buffer.from(bytes, 'latin1')));
    assert.ok([200, 404, 502].includes(got.status) && got.closedByServer, `${JSON.stringify(bytes)} → ${got.text}`);
    assert.doesNotMatch(got.text.split('\r\n')[0]!, /[\x00-\x08\x7f]/, 'no control character in the status line');
  }
  await stillServing();
  assert.deepEqual(app.guardLog, [], 'handled by the proxy itself, not by the guard');
});

test('item 3: upgrades to unknown paths are answered 404 and closed; the server holds no socket for them', async () => {
  const fdsBefore = openFds();
  const connectionsBefore = await connections(app.server);
  const upgrade = (target: string, extra = '') =>
    rawRequest(app.port, `GET ${target} HTTP/1.1\r\nHost: ${app.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${extra}\r\n`, { deadlineMs: 5000 });
  const targets = ['/x', '/', '/__runner/x', '/__runnerx', '/en/', '//evil/x', 'http://evil/x', '/%ff'];
  const total = 400;
  const outcomes: Array<{ target: string; status: number; closedByServer: boolean }> = [];
  // The client never closes its side: only the server can free these sockets.
  for (let start = 0; start < total; start += 50) {
    const batch = Array.from({ length: 50 }, (_, i) => targets[(start + i) % targets.length]!);
    const results = await Promise.all(batch.map((target) => upgrade(target)));
    results.forEach((r, i) => outcomes.push({ target: batch[i]!, status: r.status, closedByServer: r.closedByServer }));
  }
  const wrong = outcomes.filter((o) => !o.closedByServer || (o.status !== 404 && o.status !== 400));
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${total} upgrades not answered 404/400 and closed`);
  // The runner's own path: refused (no token, not a WebSocket) and closed as well.
  const noToken = await upgrade('/__runner', `Origin: http://${app.host}\r\n`);
  assert.deepEqual([noToken.status, noToken.closedByServer], [401, true]);
  const notWs = await rawRequest(app.port, `GET /__runner?token=${app.token} HTTP/1.1\r\nHost: ${app.host}\r\nOrigin: http://${app.host}\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n`);
  assert.deepEqual([notWs.status, notWs.closedByServer], [400, true]);
  const tunnel = await rawRequest(app.port, `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`);
  assert.deepEqual([tunnel.status, tunnel.closedByServer], [405, true]);

  const connectionsAfter = await settleTo(() => connections(app.server), connectionsBefore);
  const fdsAfter = await settleTo(openFds, fdsBefore + 2);
  assert.ok(connectionsAfter <= connectionsBefore, `server connections ${connectionsBefore} → ${connectionsAfter}`);
  assert.ok(fdsAfter <= fdsBefore + 2, `open fds ${fdsBefore} → ${fdsAfter}`);
  await stillServing();
  assert.deepEqual(app.guardLog, []);
});
