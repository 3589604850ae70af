/** Live preview, the pure parts: the proxy's target parsing and answer-head checks, the page's URL building and SSE parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventStreamParser, previewSocketUrl, previewUrl, type ServerSentEvent } from '../../src/client/sandbox/preview-net.ts';
import { isPreviewRequest, parseTarget } from '../../src/runner/preview/target.ts';
import { finalStatus, rawHead, reasonPhrase, toPage } from '../../src/runner/preview/headers.ts';
import { sandboxManifest } from '../../src/protocol/manifest.ts';

const cap = 'a'.repeat(43);

test('parseTarget keeps the app path and query, and takes the WebSocket token out of the query', () => {
  assert.deepEqual(parseTarget(`/__runner/preview/${cap}/items/3?q=x`), { ok: true, capability: cap, path: '/items/3?q=x', queryToken: undefined });
  assert.deepEqual(parseTarget(`/__runner/preview/${cap}`), { ok: true, capability: cap, path: '/', queryToken: undefined });
  assert.deepEqual(parseTarget(`/__runner/preview/${cap}/ws?__asynclab_token=t0k&room=a`), { ok: true, capability: cap, path: '/ws?room=a', queryToken: 't0k' });
  assert.deepEqual(parseTarget(`/__runner/preview/${cap}/ws?__asynclab_token=t0k`), { ok: true, capability: cap, path: '/ws', queryToken: 't0k' });
  // Encoded characters other than slashes, backslashes and NUL reach the app as sent.
  assert.equal((parseTarget(`/__runner/preview/${cap}/caf%C3%A9`) as { path: string }).path, '/caf%C3%A9');
});

test('parseTarget refuses tricks with a status and a code', () => {
  const status = (url: string) => {
    const t = parseTarget(url);
    return t.ok ? 200 : t.status;
  };
  for (const rest of ['/../x', '/%2e%2E/x', '/./x', '/a/..', '/a%2fb', '/a%5Cb', '/a\\b', '/%00', '//host/x', '/%g0', '/a#b']) assert.equal(status(`/__runner/preview/${cap}${rest}`), 400, rest);
  assert.equal(status(`http://127.0.0.1/__runner/preview/${cap}/x`), 400);
  assert.equal(status('/__runner/preview/short/x'), 404);
  assert.equal(status(`/__runner/preview/${cap}x/y`), 404);
  assert.equal(status(`/__runner/preview/${cap}/${'x'.repeat(5000)}`), 414);
});

test('isPreviewRequest: the prefix, and absolute-form URLs aimed at it; nothing else', () => {
  assert.ok(isPreviewRequest(`/__runner/preview/${cap}/x`));
  assert.ok(isPreviewRequest('/__runner/preview'));
  assert.ok(isPreviewRequest(`http://evil/__runner/preview/${cap}/x`));
  assert.ok(!isPreviewRequest('/__runner'));
  assert.ok(!isPreviewRequest('/__runner/previewx'));
  assert.ok(!isPreviewRequest('/en/lessons/streaming/'));
});

test('the page builds proxy URLs under the capability, with the token only in WebSocket URLs', () => {
  const access = { path: `/__runner/preview/${cap}/`, token: 'tok/en+' };
  assert.equal(previewUrl(access, '/jobs/42/progress'), `/__runner/preview/${cap}/jobs/42/progress`);
  assert.equal(previewUrl(access, 'x'), `/__runner/preview/${cap}/x`);
  assert.equal(previewSocketUrl(access, '/ws/lobby', { protocol: 'http:', host: '127.0.0.1:4321' }), `ws://127.0.0.1:4321/__runner/preview/${cap}/ws/lobby?__asynclab_token=tok%2Fen%2B`);
  assert.equal(previewSocketUrl(access, '/ws?a=1', { protocol: 'https:', host: 'h' }), `wss://h/__runner/preview/${cap}/ws?a=1&__asynclab_token=tok%2Fen%2B`);
});

test('the SSE parser follows the spec across arbitrary chunk boundaries', () => {
  const stream = 'id: 1\nevent: progress\ndata: {"step": 1}\n\n: keep-alive\n\ndata: a\ndata: b\n\nid: 3\r\ndata:no space\r\n\r\n';
  for (const size of [1, 2, 3, 7, stream.length]) {
    const events: ServerSentEvent[] = [];
    const feed = eventStreamParser((e) => events.push(e));
    for (let i = 0; i < stream.length; i += size) feed(stream.slice(i, i + size));
    assert.deepEqual(
      events,
      [
        { event: 'progress', data: '{"step": 1}', id: '1' },
        { event: 'message', data: 'a\nb', id: '1' },
        { event: 'message', data: 'no space', id: '3' },
      ],
      `chunks of ${size}`,
    );
  }
});

test('the manifest’s preview field: panels for server sandboxes only, plain paths', () => {
  const base = { id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'server', entry: 'main:app', load: [{ path: '/' }] };
  assert.ok(sandboxManifest.safeParse({ ...base, preview: { requests: ['/a', '/b?c=1'], sse: '/s', websocket: { path: '/ws', message: '{"text": "hi"}' } } }).success);
  assert.ok(sandboxManifest.safeParse({ ...base, preview: { websocket: '/ws' } }).success);
  for (const preview of [{}, { sse: 'no-slash' }, { requests: ['/../etc'] }, { requests: [] }, { sse: '/a b' }, { other: '/x' }]) {
    assert.ok(!sandboxManifest.safeParse({ ...base, preview }).success, JSON.stringify(preview));
  }
  const script = sandboxManifest.safeParse({ id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'script', entry: 'main.py', preview: { sse: '/s' } });
  assert.ok(!script.success);
  assert.deepEqual(script.error?.issues[0]?.path, ['preview']);
});

test("the app's answer head is checked before it reaches writeHead: status, reason, header names and values", () => {
  // Issue 15, item 2: these reached res.writeHead and threw outside any handler.
  for (const code of [99, 0, 100, 101, 199, 600, 999, 1000, -1, Number.NaN, undefined]) assert.equal(finalStatus(code), undefined, String(code));
  for (const code of [200, 204, 302, 404, 418, 599]) assert.equal(finalStatus(code), code);
  assert.equal(reasonPhrase(200, 'O\x01K'), 'OK', 'an invalid reason is replaced by the standard one');
  assert.equal(reasonPhrase(200, 'Fine by me'), 'Fine by me');
  assert.equal(reasonPhrase(200, 'caf\xe9'), 'OK');
  assert.equal(reasonPhrase(599, '\x7f'), 'Unknown');
  const page = toPage({ 'x-good': 'yes', 'x-bad': 'a\x01b', 'bad name': 'v', 'x-obs': 'caf\xe9', 'x-list': ['a', 'b\x00'] } as never);
  assert.equal(page['x-good'], 'yes');
  assert.equal(page['x-obs'], 'caf\xe9', 'obs-text is valid HTTP and passes');
  for (const dropped of ['x-bad', 'bad name', 'x-list']) assert.equal(page[dropped], undefined, dropped);
  // Raw heads (upgrade answers) get the same rules: no control character ever reaches the wire.
  const head = rawHead(404, 'Not\x01Found', { 'X-Ok': '1', 'X-Bad': 'a\x01b', 'Bad Name': 'v' });
  assert.equal(head, 'HTTP/1.1 404 Not Found\r\nX-Ok: 1\r\n\r\n');
});
