import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSiteHandler } from '../../src/server/site.ts';
import { isolationHeaders } from '../../src/server/headers.ts';

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
