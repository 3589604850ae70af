/**
 * ASYNCLAB_PUBLIC_ORIGINS (src/fleet/origins.ts): exact origins only, a clear startup error
 * otherwise; requests from other origins are refused with the reason; CORS headers only for listed
 * origins and always with Vary: Origin.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IncomingMessage } from 'node:http';
import { checkOrigin, corsHeaders, parsePublicOrigins, preflightHeaders } from '../../src/fleet/origins.ts';

const req = (headers: Record<string, string | string[] | undefined>) => ({ headers }) as unknown as IncomingMessage;

test('origins are parsed to the exact form a browser sends', () => {
  assert.deepEqual(parsePublicOrigins(' https://Course.Example , http://localhost:4321,https://course.example:443,https://[::1]:8443'), [
    'https://course.example',
    'http://localhost:4321',
    'https://[::1]:8443',
  ]);
});

test('wildcards, paths, other schemes, credentials and an empty list are startup errors naming the entry', () => {
  const cases: [string, RegExp][] = [
    ['https://*.course.example', /wildcard/],
    ['*', /wildcard/],
    ['https://course.example/', /no path/],
    ['https://course.example/lessons', /no path/],
    ['https://course.example?x=1', /no path/],
    ['ftp://course.example', /scheme/],
    ['https://user:pw@course.example', /user name/],
    ['course.example', /not a URL|scheme/],
    ['https://course.example:99999', /not a URL/],
  ];
  for (const [entry, why] of cases) {
    assert.throws(
      () => parsePublicOrigins(`https://ok.example,${entry}`),
      (err: Error) => err.message.startsWith('ASYNCLAB_PUBLIC_ORIGINS') && err.message.includes(entry) && why.test(err.message),
      entry,
    );
  }
  assert.throws(() => parsePublicOrigins(undefined), /ASYNCLAB_PUBLIC_ORIGINS is empty/);
  assert.throws(() => parsePublicOrigins(' , '), /ASYNCLAB_PUBLIC_ORIGINS is empty/);
});

test('only a single, exactly listed Origin passes; each refusal says why', () => {
  const allowed = new Set(parsePublicOrigins('https://course.example,http://localhost:4321'));
  assert.deepEqual(checkOrigin(req({ origin: 'https://course.example' }), allowed), { ok: true, origin: 'https://course.example' });
  const refused: [Record<string, string | string[] | undefined>, RegExp][] = [
    [{}, /missing Origin/],
    [{ origin: 'null' }, /not one of this runner's sites/],
    [{ origin: 'https://evil.example' }, /"https:\/\/evil.example" is not one/],
    [{ origin: 'https://course.example.evil.test' }, /not one/],
    [{ origin: 'http://course.example' }, /not one/],
    [{ origin: 'https://course.example/' }, /not one/],
    [{ origin: ['https://course.example', 'https://course.example'] }, /more than one Origin/],
    [{ origin: `https://${'a'.repeat(400)}.example` }, /over-long/],
  ];
  for (const [headers, why] of refused) {
    const check = checkOrigin(req(headers), allowed);
    assert.equal(check.ok, false);
    if (!check.ok) {
      assert.equal(check.status, 403);
      assert.match(check.why, why);
    }
  }
});

test('CORS headers echo an allowed origin (never *), expose the answer\'s headers to it, and vary by Origin', () => {
  const headers = corsHeaders('https://course.example');
  assert.equal(headers['Access-Control-Allow-Origin'], 'https://course.example');
  assert.equal(headers.Vary, 'Origin');
  assert.equal(headers['Access-Control-Allow-Credentials'], undefined);
});

test('a preflight grants the asking origin, the proxied methods and only plain header names', () => {
  const preflight = preflightHeaders('https://a.org', req({ origin: 'https://a.org', 'access-control-request-headers': 'content-type, x-a\r\nset-cookie: 1, x-asynclab-token' }));
  assert.equal(preflight['Access-Control-Allow-Origin'], 'https://a.org');
  assert.equal(preflight['Access-Control-Allow-Headers'], 'content-type, x-asynclab-token');
  assert.match(preflight['Access-Control-Allow-Methods']!, /POST/);
});
