/**
 * The share-link codec: what goes in comes out, the bounds hold in both directions
 * (a link too long to make, a short link that would inflate too far), and garbage in
 * any layer (base64url, deflate, UTF-8, JSON, shape) is a ShareLinkError, never a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeShare, encodeShare, maxEncodedChars, shareHash, ShareLinkError, shareValue } from '../../src/client/share-link.ts';

const mainPy = readFileSync(new URL('../../sandboxes/blocking-the-loop-stall/main.py', import.meta.url), 'utf8');
const code = { sandbox: 'blocking-the-loop-stall', files: { 'main.py': mainPy.replace('time.sleep', 'await asyncio.sleep'), 'notes/readme.txt': '' } };

const rawLink = async (payload: unknown) => {
  const stream = new Blob([JSON.stringify(payload)]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  return Buffer.from(bytes).toString('base64url');
};
const rejects = (value: string, code: string, message?: RegExp, expected?: Parameters<typeof decodeShare>[1]) =>
  assert.rejects(decodeShare(value, expected), (e: unknown) => {
    assert.ok(e instanceof ShareLinkError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });

test('round trip: the files come back byte for byte, in a fragment much smaller than the code', async () => {
  code.files['notes/readme.txt'] = 'unicode: 事件循环 — emoji 🧵\r\nand a tab\t and <script>alert(1)</script>';
  const value = await encodeShare(code);
  assert.match(value, /^[A-Za-z0-9_-]+$/, 'base64url: safe in a fragment as it is');
  assert.ok(value.length < mainPy.length, `${value.length} characters for ${mainPy.length} of code`);
  assert.deepEqual(await decodeShare(value, { sandboxId: code.sandbox, paths: ['main.py', 'notes/readme.txt'] }), code);
  const hash = await shareHash(code);
  assert.equal(hash, `#share=${value}`);
  assert.equal(shareValue(hash), value);
  assert.equal(shareValue('#timeline'), undefined);
  assert.equal(shareValue(''), undefined);
});

test('size bound: code whose link would pass 16 KiB is refused when sharing and when opening', async () => {
  // Random text does not compress: about 20 KiB of it cannot fit.
  let noise = '';
  let seed = 7;
  for (let i = 0; i < 20_000; i++) {
    // xorshift32: deterministic noise that deflate cannot shrink much.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    noise += String.fromCharCode(33 + ((seed >>> 0) % 90));
  }
  await assert.rejects(encodeShare({ sandbox: 'x', files: { 'main.py': noise } }), (e: unknown) => e instanceof ShareLinkError && e.code === 'too-large' && /16 KiB/.test(e.message));
  // Just under the bound encodes; the same length plus one is refused before decoding.
  const fits = await encodeShare({ sandbox: 'x', files: { 'main.py': noise.slice(0, 11_000) } });
  assert.ok(fits.length <= maxEncodedChars);
  await rejects('A'.repeat(maxEncodedChars + 1), 'too-large', /16 KiB/);
});

test('a short link that inflates past 256 KiB is stopped while inflating', async () => {
  const bomb = await rawLink({ v: 1, s: 'x', f: { 'main.py': 'a'.repeat(2_000_000) } });
  assert.ok(bomb.length < maxEncodedChars, `${bomb.length}`);
  await rejects(bomb, 'too-large', /256 KiB/);
});

test('garbage in any layer is a clear "damaged" error', async () => {
  await rejects('', 'malformed', /empty/);
  await rejects('not base64!', 'malformed', /base64url/);
  await rejects('A', 'malformed', /base64url/);
  await rejects(Buffer.from('plain text, not deflate at all').toString('base64url'), 'malformed', /decompress/);
  const bytes = await new Response(new Blob([new Uint8Array([0xff, 0xfe, 0x80])]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer();
  await rejects(Buffer.from(bytes).toString('base64url'), 'malformed', /not the code/);
  await rejects(await rawLink([1, 2]), 'malformed');
  await rejects(await rawLink({ v: 2, s: 'x', f: { 'a.py': '' } }), 'malformed', /another version/);
  await rejects(await rawLink({ v: 1, s: '../etc', f: { 'a.py': '' } }), 'malformed', /names no sandbox/);
  await rejects(await rawLink({ v: 1, s: 'x', f: {} }), 'malformed', /1 to 50 files/);
  await rejects(await rawLink({ v: 1, s: 'x', f: { '../../etc/passwd': 'x' } }), 'malformed', /not a file path/);
  await rejects(await rawLink({ v: 1, s: 'x', f: { 'a.py': 42 } }), 'malformed', /not text/);
  // Truncated in transit (a chat app cut the URL).
  const whole = await encodeShare(code);
  await rejects(whole.slice(0, Math.floor(whole.length / 2)), 'malformed');
});

test('a link for another sandbox, or naming a file the sandbox lacks, is refused when the page says which it is', async () => {
  const value = await encodeShare(code);
  await rejects(value, 'other-sandbox', /another example \(blocking-the-loop-stall\)/, { sandboxId: 'why-async-serial', paths: ['main.py'] });
  await rejects(value, 'malformed', /notes\/readme\.txt is not a file of this example/, { sandboxId: code.sandbox, paths: ['main.py'] });
});
