/**
 * A bounded fuzz of the HTTP surface (issue 15): random and malformed request lines, targets,
 * percent-escapes, headers, bodies and upgrades against npm start's own server with the real
 * runner mounted; then random malformed answers from a preview app through the proxy, to plain
 * requests and to WebSocket upgrades. Each one must be answered or closed by the server (none
 * left hanging), nothing may reach the guard (every handler copes by itself), and at the end the
 * server still serves and holds no more file descriptors than when it started.
 *
 * Seeded: ASYNCLAB_FUZZ_SEED=<n> replays or varies a run; a failure names the seed and the bytes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connections, openFds, page, prng, rawAnswerPath, rawPreviewApp, rawRequest, settleTo, startApp, type App, type RawOutcome } from './http-helpers.ts';

const seed = Number(process.env.ASYNCLAB_FUZZ_SEED ?? 20_150_015);
const siteRequests = 2000;
const previewAnswers = 300;
const budgetMs = 20_000;
/** Requests in flight at once: enough to overlap, few enough for a 2-core machine, and under a run's 16 preview connections. */
const parallel = 8;

type Rng = ReturnType<typeof prng>;

let app: App;
let base: string;
let pageConnection: Awaited<ReturnType<typeof page>>;

before(async () => {
  app = await startApp();
  pageConnection = await page(app);
  const ready = await pageConnection.run('fuzz', rawPreviewApp());
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
  base = ready.type === 'ready' ? ready.preview!.path : '';
});
after(async () => {
  pageConnection.ws.close();
  await app.stop();
});

function escape(r: Rng): string {
  return r.pick(['%ff', '%', '%z', '%zz', '%2e%2e', '%2F', '%5c', '%00', '%0a', '%c3%28', '%C3%A9', '%E0%A4%A', '%25', `%${r.int(256).toString(16)}`]);
}

function target(r: Rng): string {
  const segments = Array.from({ length: r.int(4) }, () =>
    r.pick([() => r.pick(['en', 'zh', 'lessons', 'one', '_astro', 'app.abc123.js', '..', '.', '', 'x.png', 'index.html']), () => escape(r), () => r.text(1 + r.int(12))])(),
  );
  const path = `/${segments.join('/')}`;
  const query = r.chance(0.3) ? `?${r.pick(['token=', '__asynclab_token=', 'q=', ''])}${r.chance(0.5) ? escape(r) : r.text(r.int(10))}` : '';
  return r.pick([
    () => path + query,
    () => path + query,
    () => `/__runner${r.pick(['', '/', '/x', '?token=nope', `?token=${escape(r)}`])}`,
    () => `/__runner/preview/${r.pick([base.split('/')[3]!, 'A'.repeat(43), r.text(43), ''])}/${r.pick(['raw', 'hello', '..', escape(r)])}${query}`,
    () => `//${r.text(6)}/${escape(r)}`,
    () => `http://${r.pick([app.host, 'evil.example', r.text(8)])}${path}`,
    () => '*',
    () => r.text(1 + r.int(30)),
    () => `/${'a'.repeat(r.pick([100, 5000, 20_000]))}`,
  ])();
}

function headers(r: Rng, upgrade: boolean): string[] {
  const lines: string[] = [];
  const host = r.chance(0.7) ? r.pick([app.host, `localhost:${app.port}`]) : r.pick([`rebind.evil:${app.port}`, '127.0.0.1', '', r.text(10)]);
  if (r.chance(0.9)) lines.push(`Host: ${host}`);
  if (r.chance(0.05)) lines.push(`Host: ${app.host}`); // a second Host
  if (upgrade) {
    lines.push(`Connection: ${r.pick(['Upgrade', 'upgrade, keep-alive', 'Upgrade', r.text(5)])}`);
    lines.push(`Upgrade: ${r.pick(['websocket', 'websocket', 'h2c', 'WebSocket', '', r.text(6)])}`);
    if (r.chance(0.6)) lines.push(`Sec-WebSocket-Version: ${r.pick(['13', '8', '', r.text(3)])}`);
    if (r.chance(0.6)) lines.push(`Sec-WebSocket-Key: ${r.pick(['dGhlIHNhbXBsZSBub25jZQ==', '', r.text(24)])}`);
    if (r.chance(0.3)) lines.push('Sec-WebSocket-Protocol: vite-hmr');
  } else if (r.chance(0.2)) {
    lines.push(`Connection: ${r.pick(['keep-alive', 'close', 'Upgrade', r.text(5)])}`);
  }
  if (r.chance(0.4)) lines.push(`Origin: ${r.pick([`http://${app.host}`, 'http://evil.example', 'null', r.text(12)])}`);
  if (r.chance(0.2)) lines.push(`X-AsyncLab-Token: ${r.pick([app.token, 'nope', r.text(20)])}`);
  if (r.chance(0.2)) lines.push(`Range: ${r.pick(['bytes=5-2', 'bytes=-5', 'bytes=0-0', 'bytes=99999999999999999999-', 'bytes=0-1,2-3', r.text(8)])}`);
  if (r.chance(0.1)) lines.push(`Sec-Fetch-Site: ${r.pick(['same-origin', 'cross-site', r.text(5)])}`);
  if (r.chance(0.15)) lines.push(`${r.pick(['X-Odd', 'Bad Name', 'X:Colon', '', r.text(6)])}: ${r.text(r.int(40))}`);
  if (r.chance(0.02)) lines.push(`no colon here ${r.text(5)}`);
  if (r.chance(0.02)) lines.push(` folded ${r.text(5)}`);
  if (r.chance(0.03)) lines.push(`X-Filler: ${'x'.repeat(r.pick([9000, 20_000]))}`);
  return lines;
}

/**
 * A well-formed request that reaches the handlers (the parser would refuse most wild ones
 * before any of our code runs): a usual method, a loopback Host, HTTP/1.1, and one thing
 * odd about it at most — its path, escapes, query, Range, Origin, token, or an upgrade.
 */
function tame(r: Rng): { bytes: Buffer; halfClose: boolean } {
  const upgrade = r.chance(0.3);
  const method = upgrade ? 'GET' : r.pick(['GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'DELETE']);
  const segments = Array.from({ length: 1 + r.int(3) }, () => r.pick(['en', 'zh', 'lessons', 'one', '_astro', 'app.abc123.js', '..', 'x.png', 'index.html', escape(r), escape(r)]));
  const query = r.chance(0.3) ? `?${r.pick(['token=', '__asynclab_token=', 'q='])}${r.pick([escape(r), app.token, 'x'])}` : '';
  const cap = r.pick([base.split('/')[3]!, 'A'.repeat(43), 'short']);
  const path = r.pick([
    () => `/${segments.join('/')}${query}`,
    () => `/__runner${r.pick(['', '/', '/x'])}${query}`,
    () => `/__runner/preview/${cap}/${r.pick(['hello', 'raw', escape(r), '..'])}${query}`,
    () => `//${segments.join('/')}`,
  ])();
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${r.chance(0.9) ? app.host : `rebind.evil:${app.port}`}`];
  if (upgrade) lines.push('Connection: Upgrade', `Upgrade: ${r.pick(['websocket', 'websocket', 'h2c'])}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==');
  if (r.chance(0.5)) lines.push(`Origin: ${r.pick([`http://${app.host}`, `http://${app.host}`, 'http://evil.example', 'null'])}`);
  if (r.chance(0.3)) lines.push(`X-AsyncLab-Token: ${r.pick([app.token, 'nope'])}`);
  if (r.chance(0.2)) lines.push(`Range: ${r.pick(['bytes=5-2', 'bytes=-5', 'bytes=0-3', 'bytes=99999999999999999999-', 'bytes=0-1,2-3', 'pages=1'])}`);
  if (r.chance(0.1)) lines.push(`Sec-Fetch-Site: ${r.pick(['same-origin', 'cross-site'])}`);
  if (!upgrade) lines.push(r.pick(['Connection: close', 'Connection: keep-alive']));
  const body = method === 'POST' ? Buffer.from(`{"n":${r.int(100)}}`) : Buffer.alloc(0);
  if (body.length) lines.push('Content-Type: application/json', `Content-Length: ${body.length}`);
  return { bytes: Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]), halfClose: false };
}

/** One random request: half tame (above), half wild; `halfClose` when it may be incomplete (the server then drops it at once). */
function request(r: Rng): { bytes: Buffer; halfClose: boolean } {
  return r.chance(0.5) ? tame(r) : wild(r);
}

function wild(r: Rng): { bytes: Buffer; halfClose: boolean } {
  const upgrade = r.chance(0.3);
  const method = r.pick(['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'PRI', 'get', r.text(4)]);
  const version = r.chance(0.85) ? r.pick(['HTTP/1.1', 'HTTP/1.0']) : r.pick(['HTTP/2.0', 'HTTP/9.9', 'http/1.1', '', r.text(4)]);
  const head = [`${method} ${target(r)} ${version}`.trimEnd(), ...headers(r, upgrade)];
  const eol = r.chance(0.05) ? '\n' : '\r\n';
  let body = Buffer.alloc(0);
  let complete = true;
  if (r.chance(0.2)) {
    body = r.bytes(r.int(64));
    const declared = r.pick([String(body.length), String(body.length + 10), '-1', 'abc', '99999999999999999999', `${body.length}, ${body.length}`]);
    if (r.chance(0.7)) head.push(`Content-Length: ${declared}`);
    else head.push(`Transfer-Encoding: ${r.pick(['chunked', 'gzip, chunked', 'identity', r.text(5)])}`);
    complete = false;
  }
  let bytes = Buffer.concat([Buffer.from(`${head.join(eol)}${eol}${eol}`, 'latin1'), body]);
  if (r.chance(0.05)) {
    bytes = bytes.subarray(0, r.int(bytes.length)); // cut anywhere
    complete = false;
  }
  if (r.chance(0.02)) {
    bytes = r.bytes(1 + r.int(200)); // noise
    complete = false;
  }
  // PRI starts HTTP/2's preface: Node's parser waits for the rest of it ("SM\r\n\r\n") until its
  // headersTimeout, as for any request not yet complete — so it is sent as one that may be.
  if (method === 'PRI') complete = false;
  return { bytes, halfClose: !complete || r.chance(0.2) };
}

/** Runs `count` jobs `parallel` at a time until done or the time budget is spent. */
async function pool<T>(count: number, job: (i: number) => Promise<T>, deadline: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count && Date.now() < deadline) {
        const i = next++;
        results[i] = await job(i);
      }
    }),
  );
  return results.filter((x) => x !== undefined);
}

/** A request counts as handled when an answer head arrived or the server closed the connection. */
const handled = (o: RawOutcome) => o.status > 0 || o.closedByServer;

test(`fuzz: ${siteRequests} random and malformed requests and upgrades against the site with the runner mounted (seed ${seed})`, async (t) => {
  const r = prng(seed);
  const cases = Array.from({ length: siteRequests }, () => request(r));
  const fdsBefore = openFds();
  const connectionsBefore = await connections(app.server);
  const started = Date.now();
  const outcomes = await pool(
    cases.length,
    async (i) => ({ i, outcome: await rawRequest(app.port, cases[i]!.bytes, { halfClose: cases[i]!.halfClose, untilAnswer: true, deadlineMs: 4000 }) }),
    started + budgetMs,
  );
  const tookMs = Date.now() - started;
  const hung = outcomes.filter(({ outcome }) => !handled(outcome));
  const statuses = new Map<number, number>();
  for (const { outcome } of outcomes) statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
  const connectionsAfter = await settleTo(() => connections(app.server), connectionsBefore, 8000);
  const fdsAfter = await settleTo(openFds, fdsBefore + 4, 8000);
  t.diagnostic(`seed ${seed}: ${outcomes.length} requests in ${tookMs} ms; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  t.diagnostic(`open fds ${fdsBefore} → ${fdsAfter}; server connections ${connectionsBefore} → ${connectionsAfter}`);

  assert.ok(outcomes.length >= siteRequests / 2, `only ${outcomes.length} requests ran within ${budgetMs} ms`);
  assert.deepEqual(
    hung.slice(0, 3).map(({ i }) => JSON.stringify(cases[i]!.bytes.toString('latin1').slice(0, 300))),
    [],
    `seed ${seed}: ${hung.length} requests neither answered nor closed`,
  );
  assert.deepEqual(app.guardLog.map((line) => line.slice(0, 400)), [], `seed ${seed}: a handler threw`);
  assert.ok(connectionsAfter <= connectionsBefore, `server connections ${connectionsBefore} → ${connectionsAfter}`);
  assert.ok(fdsAfter <= fdsBefore + 4, `open fds ${fdsBefore} → ${fdsAfter}`);
  // Still serving: a page, an asset, and the runner's WebSocket.
  assert.equal((await rawRequest(app.port, `GET /en/lessons/one/ HTTP/1.1\r\nHost: ${app.host}\r\nConnection: close\r\n\r\n`)).status, 200);
  const again = await page(app);
  again.ws.close();
});

/** A random, mostly malformed answer head (and body) from the app. */
function answer(r: Rng): Buffer {
  const eol = r.chance(0.05) ? '\n' : '\r\n';
  const version = r.chance(0.9) ? r.pick(['HTTP/1.1', 'HTTP/1.0']) : r.pick(['HTTP/2', 'HTTP/1.1 ', 'http/1.1', 'ICY', r.text(4)]);
  const status = r.chance(0.65)
    ? r.pick(['200', '201', '204', '301', '304', '400', '404', '418', '500', '503', '599'])
    : r.pick(['099', '000', '100', '101', '199', '600', '999', '20', '2000', '-1', 'abc', ` 200`, String(r.int(1000))]);
  const reason = r.pick(['OK', 'OK', 'Fine', '', 'O\x01K', 'Not\x7fFound', 'caf\xe9', r.text(r.int(20)), `${'x'.repeat(300)}`]);
  const lines = [r.chance(0.1) ? `${version} ${status}` : `${version} ${status} ${reason}`];
  const body = r.bytes(r.int(40));
  for (let n = r.int(6); n > 0; n -= 1) {
    // Mostly headers an app may well send, some of them the page must not see; now and then a broken one.
    const fine = [
      () => `X-Ok: ${r.pick(['1', 'yes', 'caf\xe9'])}`,
      () => `Content-Type: ${r.pick(['text/plain', 'text/html', 'application/json'])}`,
      () => `Content-Length: ${body.length}`,
      () => `Set-Cookie: s=${r.int(100)}`,
      () => `Access-Control-Allow-Origin: *`,
      () => `Connection: ${r.pick(['close', 'keep-alive', 'X-Ok'])}`,
      () => `Cache-Control: max-age=${r.int(1000)}`,
    ];
    const broken = [
      () => `X-Ctl: a${String.fromCharCode(r.int(32))}b`,
      () => `${r.pick(['Bad Name', 'X:Y', '', '(x)', r.text(5)])}: v`,
      () => `Content-Length: ${r.pick([String(body.length + 5), '-1', 'x', '1, 2'])}`,
      () => `Transfer-Encoding: ${r.pick(['chunked', 'identity', r.text(4)])}`,
      () => ` folded ${r.text(4)}`,
      () => `Upgrade: ${r.pick(['websocket', r.text(4)])}`,
      () => `X-Long: ${'y'.repeat(r.pick([100, 20_000]))}`,
      () => `X-Any: ${r.text(10)}`,
    ];
    lines.push(r.pick(r.chance(0.75) ? fine : broken)());
  }
  const head = `${lines.join(eol)}${r.chance(0.95) ? `${eol}${eol}` : ''}`;
  const bytes = Buffer.concat([Buffer.from(head, 'latin1'), body]);
  if (r.chance(0.05)) return Buffer.alloc(0); // closes without a word
  if (r.chance(0.05)) return r.bytes(1 + r.int(100));
  return r.chance(0.1) ? bytes.subarray(0, r.int(bytes.length)) : bytes;
}

test(`fuzz: ${previewAnswers} random malformed answers from a preview app through the proxy (seed ${seed})`, async (t) => {
  const r = prng(seed + 1);
  const cases = Array.from({ length: previewAnswers }, () => ({ bytes: answer(r), websocket: r.chance(0.25) }));
  const fdsBefore = openFds();
  const connectionsBefore = await connections(app.server);
  const started = Date.now();
  const outcomes = await pool(
    cases.length,
    async (i) => {
      const { bytes, websocket } = cases[i]!;
      const path = rawAnswerPath(base, bytes.subarray(0, 2000)); // the proxy's URL limit is 4 KiB
      const text = websocket
        ? `GET ${path}&__asynclab_token=${app.token} HTTP/1.1\r\nHost: ${app.host}\r\nOrigin: http://${app.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`
        : `GET ${path} HTTP/1.1\r\nHost: ${app.host}\r\nX-AsyncLab-Token: ${app.token}\r\nConnection: close\r\n\r\n`;
      return { i, outcome: await rawRequest(app.port, text, { deadlineMs: 5000 }) };
    },
    started + budgetMs,
  );
  const tookMs = Date.now() - started;
  const statuses = new Map<number, number>();
  for (const { outcome } of outcomes) statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
  const hung = outcomes.filter(({ outcome }) => !outcome.closedByServer && outcome.status === 0);
  const badLine = outcomes.filter(({ outcome }) => outcome.status !== 0 && !/^HTTP\/1\.1 [1-5]\d\d [\t\x20-\x7e]*\r\n/.test(outcome.text));
  const connectionsAfter = await settleTo(() => connections(app.server), connectionsBefore, 8000);
  const fdsAfter = await settleTo(openFds, fdsBefore + 4, 8000);
  t.diagnostic(`seed ${seed + 1}: ${outcomes.length} answers in ${tookMs} ms; statuses seen by the page ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  t.diagnostic(`open fds ${fdsBefore} → ${fdsAfter}; server connections ${connectionsBefore} → ${connectionsAfter}`);

  assert.ok(outcomes.length >= previewAnswers / 2, `only ${outcomes.length} answers within ${budgetMs} ms`);
  const show = (list: typeof outcomes) => list.slice(0, 3).map(({ i, outcome }) => `${JSON.stringify(cases[i]!.bytes.toString('latin1').slice(0, 200))} → ${JSON.stringify(outcome.text.slice(0, 120))}`);
  assert.deepEqual(show(hung), [], `seed ${seed + 1}: ${hung.length} proxied requests neither answered nor closed`);
  assert.deepEqual(show(badLine), [], `seed ${seed + 1}: status lines the page should never see`);
  assert.deepEqual(app.guardLog.map((line) => line.slice(0, 400)), [], `seed ${seed + 1}: a handler threw`);
  assert.ok(connectionsAfter <= connectionsBefore, `server connections ${connectionsBefore} → ${connectionsAfter}`);
  assert.ok(fdsAfter <= fdsBefore + 4, `open fds ${fdsBefore} → ${fdsAfter}`);
  const ok = await rawRequest(app.port, `GET ${base}hello HTTP/1.1\r\nHost: ${app.host}\r\nX-AsyncLab-Token: ${app.token}\r\nConnection: close\r\n\r\n`);
  assert.match(ok.text, /^HTTP\/1\.1 200 [\s\S]*app ok$/, 'the preview still serves');
});
