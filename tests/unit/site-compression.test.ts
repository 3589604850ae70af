import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createSiteHandler } from '../../src/server/site.ts';
import { negotiateEncoding, parseAcceptEncoding } from '../../src/server/encoding.ts';
import { precompress } from '../../src/tools/precompress.ts';

let root: string;
let server: Server;
let port: number;
const head = '<meta name="asynclab-runner" content="token-123">';
const lessonHtml = `<html><head><title>x</title></head><body>${'<p>The event loop runs one callback at a time.</p>\n'.repeat(200)}</body></html>`;
const appJs = `export const lanes = [${Array.from({ length: 400 }, (_, i) => `"lane ${i}"`).join(', ')}];\n`;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'asynclab-gzip-'));
  const files: Record<string, string | Buffer> = {
    'index.html': '<h1>choose</h1>',
    '404.html': 'both languages 404',
    'en/lessons/event-loop/index.html': lessonHtml,
    '_astro/app.abc123.js': appJs,
    '_astro/tiny.js': 'console.log(1)',
    '_astro/noise.js': randomBytes(4096), // compressible by name, not by content
    'img/photo.png': Buffer.alloc(8192),
  };
  for (const [name, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), body);
  }
  await precompress(root);
  server = createServer(await createSiteHandler({ root, headHtml: head }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with exactly these headers; the body as sent (node:http never decompresses). */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: url, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const decode = (a: Answer): string => {
  const coding = a.headers['content-encoding'];
  return (coding === 'br' ? brotliDecompressSync(a.body) : coding === 'gzip' ? gunzipSync(a.body) : a.body).toString('utf8');
};

test('the build step writes .br and .gz beside compressible files over 1 KiB, and only where they help', async () => {
  for (const name of ['en/lessons/event-loop/index.html', '_astro/app.abc123.js']) {
    const original = await readFile(path.join(root, name));
    assert.deepEqual(brotliDecompressSync(await readFile(path.join(root, `${name}.br`))), original, name);
    assert.deepEqual(gunzipSync(await readFile(path.join(root, `${name}.gz`))), original, name);
  }
  for (const name of ['_astro/tiny.js', '_astro/noise.js', 'img/photo.png', 'index.html']) {
    assert.equal(existsSync(path.join(root, `${name}.br`)) || existsSync(path.join(root, `${name}.gz`)), false, name);
  }
});

test('a page is sent brotli- or gzip-compressed as the request accepts, with Vary and the compressed length', async () => {
  const page = lessonHtml.replace('</head>', `${head}</head>`);
  for (const [accept, coding] of [
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0.5, gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['*', 'br'],
  ] as const) {
    const a = await get('/en/lessons/event-loop/', { 'Accept-Encoding': accept });
    assert.equal(a.status, 200, accept);
    assert.equal(a.headers['content-encoding'], coding, accept);
    assert.match(String(a.headers.vary), /Accept-Encoding/i, accept);
    assert.equal(Number(a.headers['content-length']), a.body.length, accept);
    assert.ok(a.body.length < page.length / 5, `${accept}: ${a.body.length} bytes`);
    assert.equal(decode(a), page, accept);
  }
});

test('identity when no coding is accepted: no header, q=0 for each, identity preferred, or only unknown codings', async () => {
  for (const accept of [undefined, 'br;q=0, gzip;q=0', 'identity, br;q=0.5', 'deflate', 'br;q=abc, gzip;q=2']) {
    const a = await get('/en/lessons/event-loop/', accept === undefined ? {} : { 'Accept-Encoding': accept });
    assert.equal(a.headers['content-encoding'], undefined, String(accept));
    assert.equal(Number(a.headers['content-length']), a.body.length, String(accept));
    assert.match(a.body.toString('utf8'), /token-123/, String(accept));
  }
});

test("a file is sent from the build's .br/.gz with its own length, type and ETag; identity otherwise", async () => {
  const br = await get('/_astro/app.abc123.js', { 'Accept-Encoding': 'br, gzip' });
  const gz = await get('/_astro/app.abc123.js', { 'Accept-Encoding': 'gzip' });
  const plain = await get('/_astro/app.abc123.js', { 'Accept-Encoding': 'gzip;q=0' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(plain.headers['content-encoding'], undefined);
  for (const a of [br, gz, plain]) {
    assert.equal(a.status, 200);
    assert.match(String(a.headers['content-type']), /javascript/);
    assert.match(String(a.headers.vary), /Accept-Encoding/i);
    assert.match(String(a.headers['cache-control']), /immutable/);
    assert.equal(Number(a.headers['content-length']), a.body.length);
    assert.equal(decode(a), appJs);
  }
  assert.equal(new Set([br.headers.etag, gz.headers.etag, plain.headers.etag]).size, 3, 'one ETag per coding');
  // No variant to send: the file itself.
  const tiny = await get('/_astro/tiny.js', { 'Accept-Encoding': 'br' });
  assert.equal(tiny.headers['content-encoding'], undefined);
  assert.equal(tiny.body.toString(), 'console.log(1)');
});

test('HEAD gives the headers of the compressed answer and no body', async () => {
  for (const url of ['/en/lessons/event-loop/', '/_astro/app.abc123.js']) {
    const got = await get(url, { 'Accept-Encoding': 'br' });
    const a = await get(url, { 'Accept-Encoding': 'br' }, 'HEAD');
    assert.equal(a.status, 200, url);
    assert.equal(a.headers['content-encoding'], 'br', url);
    assert.equal(a.headers['content-length'], got.headers['content-length'], url);
    assert.equal(a.body.length, 0, url);
  }
});

test('a Range request gets identity bytes at the offsets it asked for, never compressed ones', async () => {
  const a = await get('/_astro/app.abc123.js', { 'Accept-Encoding': 'br, gzip', Range: 'bytes=7-18' });
  assert.equal(a.status, 206);
  assert.equal(a.headers['content-encoding'], undefined);
  assert.equal(a.headers['content-range'], `bytes 7-18/${Buffer.byteLength(appJs)}`);
  assert.equal(a.body.toString(), appJs.slice(7, 19));
  assert.equal(Number(a.headers['content-length']), 12);
  // Pages ignore Range (whole page, allowed by RFC 9110), and then send it uncompressed too.
  const page = await get('/en/lessons/event-loop/', { 'Accept-Encoding': 'br', Range: 'bytes=0-9' });
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-encoding'], undefined);
});

test('the .br/.gz files are not pages of the site', async () => {
  for (const url of ['/_astro/app.abc123.js.br', '/en/lessons/event-loop/index.html.gz']) {
    assert.equal((await get(url, { 'Accept-Encoding': 'br, gzip' })).status, 404, url);
  }
});

test('negotiateEncoding: highest q among what exists, ties to brotli, identity when refused or absent', () => {
  const both = ['br', 'gzip'] as const;
  const cases: Array<[string | undefined, readonly ('br' | 'gzip')[], string | undefined]> = [
    [undefined, both, undefined],
    ['', both, undefined],
    ['gzip, deflate, br, zstd', both, 'br'],
    ['gzip, deflate, br', ['gzip'], 'gzip'],
    ['br', ['gzip'], undefined],
    ['BR;Q=0.8, GZIP;q=0.9', both, 'gzip'],
    ['br;q=0, *', both, 'gzip'],
    ['*;q=0', both, undefined],
    ['identity;q=1, gzip;q=0.5', both, undefined],
    ['identity;q=0.5, gzip;q=0.5', both, 'gzip'],
    ['gzip;q=1.5', both, undefined],
    ['gzip;q=0.001', both, 'gzip'],
  ];
  for (const [header, available, expected] of cases) assert.equal(negotiateEncoding(header, available), expected, String(header));
  assert.deepEqual([...parseAcceptEncoding('gzip;q=0.5, br, gzip;q=1')], [
    ['gzip', 0.5],
    ['br', 1],
  ]);
});
