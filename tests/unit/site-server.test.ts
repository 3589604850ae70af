import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSiteHandler, parseSitePath } from '../../src/server/site.ts';
import { isolationHeaders } from '../../src/server/headers.ts';
import { rawRequest } from '../support/raw-http.ts';

let root: string;
let server: Server;
let base: string;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'asynclab-site-'));
  const files: Record<string, string> = {
    'index.html': '<h1>choose</h1>',
    '404.html': 'both languages 404',
    'en/404.html': 'english 404',
    'zh/404.html': '中文 404',
    'en/lessons/event-loop/index.html': '<html><head><title>x</title></head><body><h1>The event loop</h1></body></html>',
    '_astro/app.abc123.js': 'console.log(1)',
  };
  for (const [name, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), body);
  }
  server = createServer(await createSiteHandler({ root }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

test('pages are served with cross-origin isolation headers', async () => {
  const res = await fetch(`${base}/en/lessons/event-loop/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /The event loop/);
  for (const [name, value] of Object.entries(isolationHeaders)) assert.equal(res.headers.get(name), value, name);
});

test('hashed assets are cached for good, pages are revalidated', async () => {
  const asset = await fetch(`${base}/_astro/app.abc123.js`);
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  assert.equal(asset.headers.get('cross-origin-embedder-policy'), 'require-corp');
  const page = await fetch(`${base}/`);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
});

test('a missing page gets the 404 of its language, with the isolation headers', async () => {
  const cases: Array<[string, string]> = [
    ['/zh/lessons/nope/', '中文 404'],
    ['/en/nope', 'english 404'],
    ['/nope', 'both languages 404'],
  ];
  for (const [url, body] of cases) {
    const res = await fetch(base + url);
    assert.equal(res.status, 404, url);
    assert.equal(await res.text(), body, url);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', url);
  }
});

test('methods other than GET and HEAD are refused', async () => {
  const res = await fetch(`${base}/`, { method: 'POST', body: 'x' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET, HEAD');
});

test("a missing build is a clear error, not an empty site", async () => {
  await assert.rejects(createSiteHandler({ root: path.join(root, "nowhere") }), /run `npm run build` first/);
});

test('public/_headers carries the same isolation headers for static hosts', async () => {
  const file = await readFile(new URL('../../public/_headers', import.meta.url), 'utf8');
  for (const [name, value] of Object.entries(isolationHeaders)) {
    assert.match(file, new RegExp(`^\\s+${name}: ${value}$`, 'm'), name);
  }
});

test('pages carry the head markup the server adds (the runner token), other files do not', async () => {
  const withMeta = createServer(await createSiteHandler({ root, headHtml: '<meta name="asynclab-runner" content="t0k3n">' }));
  await new Promise<void>((resolve) => withMeta.listen(0, '127.0.0.1', resolve));
  const at = `http://127.0.0.1:${(withMeta.address() as AddressInfo).port}`;
  try {
    for (const url of ['/en/lessons/event-loop/', '/en/lessons/event-loop/index.html', '/en/lessons/event-loop']) {
      const page = await (await fetch(at + url)).text();
      assert.match(page, /<title>x<\/title><meta name="asynclab-runner" content="t0k3n"><\/head>/, url);
    }
    const notFound = await fetch(`${at}/zh/missing`);
    assert.equal(notFound.status, 404);
    const asset = await (await fetch(`${at}/_astro/app.abc123.js`)).text();
    assert.equal(asset, 'console.log(1)');
  } finally {
    await new Promise((resolve) => withMeta.close(resolve));
  }
});

/** Raw bytes on a fresh connection to the server at `at`. */
const raw = (at: string, text: string) => rawRequest(Number(new URL(at).port), text);
const rawGet = (at: string, target: string, headers = '') =>
  raw(at, `GET ${target} HTTP/1.1\r\nHost: ${new URL(at).host}\r\n${headers}Connection: close\r\n\r\n`);

test('malformed paths and escapes are a 400 for that request, never an exception (issue 15, item 1)', async () => {
  for (const target of ['/x%ff.png', '/%', '/%zz', '/en/%c3%28', '//%ff', '//evil.example/x', '/a%00b', '/a%0ab']) {
    assert.match(await rawGet(base, target), /^HTTP\/1\.1 400 /, target);
  }
  assert.match(await rawGet(base, '/caf%C3%A9'), /^HTTP\/1\.1 404 /, 'a well-formed escape is looked up as usual');
  assert.equal((await fetch(`${base}/en/lessons/event-loop/`)).status, 200, 'still serving');
});

test('parseSitePath: the decoded path, or why not', () => {
  assert.deepEqual(parseSitePath('/en/lessons/x/?q=%ff#h'), { ok: true, pathname: '/en/lessons/x/' });
  assert.deepEqual(parseSitePath('/caf%C3%A9'), { ok: true, pathname: '/café' });
  for (const bad of [undefined, '', '*', 'http://h/x', '//x', '/%E0%A4%A', '/%ff', '/%0d']) assert.equal(parseSitePath(bad).ok, false, String(bad));
});

test('a Range sirv would throw on is ignored (whole file), one it can serve is served', async () => {
  for (const range of ['bytes=5-2', 'bytes=-5', 'bytes=0-1,3-4', 'bytes=x-y', 'items=0-1']) {
    const answer = await rawGet(base, '/_astro/app.abc123.js', `Range: ${range}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 200 [\s\S]*console\.log\(1\)$/, range);
  }
  const part = await rawGet(base, '/_astro/app.abc123.js', 'Range: bytes=0-6\r\n');
  assert.match(part, /^HTTP\/1\.1 206 [\s\S]*\r\n\r\nconsole$/);
  assert.equal((await fetch(`${base}/`)).status, 200, 'still serving');
});

test('with its port given, the site answers only to a loopback Host (a rebinding page cannot read it)', async () => {
  let port = 0;
  const guarded = createServer(await createSiteHandler({ root, headHtml: '<meta name="t" content="secret">', port: () => port }));
  await new Promise<void>((resolve) => guarded.listen(0, '127.0.0.1', resolve));
  port = (guarded.address() as AddressInfo).port;
  const at = `http://127.0.0.1:${port}`;
  try {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      assert.match(await raw(at, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 200 /, host);
    }
    for (const host of [`rebind.evil:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`, '']) {
      const answer = await raw(at, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.match(answer, /^HTTP\/1\.1 421 /, host);
      assert.doesNotMatch(answer, /secret/, host);
    }
  } finally {
    await new Promise((resolve) => guarded.close(resolve));
  }
});

test("npm start's server (runner off) survives GET /x%ff.png and keeps serving; unknown upgrades are answered", async () => {
  const child = spawn(process.execPath, [new URL('../../src/server/main.ts', import.meta.url).pathname], {
    env: { ...process.env, RUNNER: 'off', PORT: '0', SITE_DIR: root },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const at = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start: ${output}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    assert.match(await rawGet(at, '/x%ff.png'), /^HTTP\/1\.1 400 /);
    assert.equal(child.exitCode, null, `the server exited: ${output}`);
    assert.match(await rawGet(at, '/'), /^HTTP\/1\.1 200 /);
    const upgrade = await raw(at, `GET /anything HTTP/1.1\r\nHost: ${new URL(at).host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
    assert.match(upgrade, /^HTTP\/1\.1 404 /);
    assert.doesNotMatch(output, /unexpected error/, 'nothing reached the guard');
  } finally {
    child.kill('SIGKILL');
  }
});
