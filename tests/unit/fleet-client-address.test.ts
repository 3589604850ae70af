/**
 * The public gateway's idea of who a client is (src/fleet/client-address.ts): the direct peer,
 * unless it is a trusted proxy; then the right-most X-Forwarded-For entry that is not a trusted
 * proxy. A stranger's own X-Forwarded-For is ignored; garbage never becomes an identity.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress, clientHash, clientNetwork, normaliseAddress, parseTrustedProxies, sharedClientSalt, type RequestLike } from '../../src/fleet/client-address.ts';

const proxies = parseTrustedProxies('10.0.0.0/8, 192.168.1.7, fd00::/8');

function request(peer: string | undefined, xff?: string | string[]): RequestLike {
  return { socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } };
}

test('addresses are normalised: IPv4-mapped IPv6 becomes IPv4, ports, brackets and zones are dropped', () => {
  assert.equal(normaliseAddress('::ffff:203.0.113.9'), '203.0.113.9');
  assert.equal(normaliseAddress('::FFFF:cb00:7109'), '203.0.113.9');
  assert.equal(normaliseAddress('203.0.113.9:51234'), '203.0.113.9');
  assert.equal(normaliseAddress('[2001:DB8::1]:443'), '2001:db8::1');
  assert.equal(normaliseAddress('2001:db8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(normaliseAddress('fe80::1%eth0'), 'fe80::1');
  for (const garbage of ['', 'unknown', '_hidden', '1.2.3', '1.2.3.4.5', '999.1.1.1', 'localhost', '::ffff:1.2.3.4:80', 'x'.repeat(5000), '1:2:3:4:5:6:7:8:9', '<script>']) {
    assert.equal(normaliseAddress(garbage), null, garbage.slice(0, 20));
  }
});

test('a direct peer that is not a trusted proxy is the client, whatever X-Forwarded-For it sends', () => {
  assert.equal(clientAddress(request('203.0.113.9', '198.51.100.1'), proxies), '203.0.113.9');
  assert.equal(clientAddress(request('::ffff:203.0.113.9', '10.0.0.1, 198.51.100.1'), proxies), '203.0.113.9');
  assert.equal(clientAddress(request('2001:db8::5', '198.51.100.1'), proxies), '2001:db8::5');
  // With no trusted proxies configured at all, the header is never read.
  assert.equal(clientAddress(request('10.0.0.1', '198.51.100.1'), parseTrustedProxies(undefined)), '10.0.0.1');
});

test('behind trusted proxies the right-most untrusted entry is the client, and what the client prepended is ignored', () => {
  assert.equal(clientAddress(request('10.1.2.3', '198.51.100.1'), proxies), '198.51.100.1');
  // The client wrote "1.1.1.1" itself; our proxy appended the address it really saw.
  assert.equal(clientAddress(request('10.1.2.3', '1.1.1.1, 198.51.100.1'), proxies), '198.51.100.1');
  // Two trusted hops (192.168.1.7 then 10.1.2.3) are skipped.
  assert.equal(clientAddress(request('10.1.2.3', '1.1.1.1, 198.51.100.1, 192.168.1.7'), proxies), '198.51.100.1');
  // IPv6 proxy and client, mapped peer.
  assert.equal(clientAddress(request('fd12::7', '2001:db8::9'), proxies), '2001:db8::9');
  assert.equal(clientAddress(request('::ffff:10.9.9.9', '::ffff:198.51.100.4'), proxies), '198.51.100.4');
});

test('repeated X-Forwarded-For headers are read as one list, in order', () => {
  assert.equal(clientAddress(request('10.1.2.3', ['1.1.1.1', '198.51.100.1']), proxies), '198.51.100.1');
  assert.equal(clientAddress(request('10.1.2.3', ['198.51.100.1', '192.168.1.7']), proxies), '198.51.100.1');
});

test('garbage, empty or missing entries stop the walk at the last address a trusted hop vouched for', () => {
  // No header from a trusted proxy: the proxy itself is all we know.
  assert.equal(clientAddress(request('10.1.2.3'), proxies), '10.1.2.3');
  assert.equal(clientAddress(request('10.1.2.3', ''), proxies), '10.1.2.3');
  assert.equal(clientAddress(request('10.1.2.3', 'garbage'), proxies), '10.1.2.3');
  // Garbage left of a real entry cannot replace it; garbage right of it hides what is beyond.
  assert.equal(clientAddress(request('10.1.2.3', 'nonsense, 198.51.100.1'), proxies), '198.51.100.1');
  assert.equal(clientAddress(request('10.1.2.3', '198.51.100.1, , 192.168.1.7'), proxies), '192.168.1.7');
  // Only trusted entries all the way: the left-most of them.
  assert.equal(clientAddress(request('10.1.2.3', '10.4.4.4, 10.5.5.5'), proxies), '10.4.4.4');
  // A socket that already closed has no address.
  assert.equal(clientAddress(request(undefined, '198.51.100.1'), proxies), null);
});

test('a huge X-Forwarded-For is read from its right end only, and cannot grow the work', () => {
  const junk = Array.from({ length: 20_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(', ');
  const started = process.hrtime.bigint();
  assert.equal(clientAddress(request('10.1.2.3', `${junk}, 198.51.100.1`), proxies), '198.51.100.1');
  // Every entry trusted: the walk stops after its hop limit, at a trusted address (never one from the far left).
  const all = clientAddress(request('10.1.2.3', junk), proxies)!;
  assert.ok(proxies.has(all));
  assert.notEqual(all, '10.0.0.0');
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 500);
});

test('ASYNCLAB_TRUSTED_PROXIES accepts addresses and CIDRs of both families and rejects anything else by name', () => {
  const list = parseTrustedProxies(' 10.0.0.0/8 ,2001:db8::/32,::ffff:192.0.2.1 ');
  assert.equal(list.size, 3);
  assert.ok(list.has('10.200.0.1'));
  assert.ok(list.has('::ffff:10.200.0.1'));
  assert.ok(list.has('2001:db8:ffff::1'));
  assert.ok(list.has('192.0.2.1'));
  assert.ok(!list.has('192.0.2.2'));
  assert.ok(!list.has('2001:db9::1'));
  assert.ok(!list.has('not an address'));
  for (const bad of ['10.0.0.0/33', 'fd00::/129', 'proxy.internal', '10.0.0.0/8/1', '10.0.0.0/x', '*']) {
    assert.throws(() => parseTrustedProxies(`10.0.0.1, ${bad}`), (err: Error) => err.message.includes('ASYNCLAB_TRUSTED_PROXIES') && err.message.includes(bad));
  }
});

test('the client hash is salted, stable per client network, and never contains the address', () => {
  const salt = 'a-test-salt-of-some-length';
  const a = clientHash('203.0.113.9', salt);
  assert.equal(a, clientHash('203.0.113.9', salt));
  assert.notEqual(a, clientHash('203.0.113.10', salt));
  assert.notEqual(a, clientHash('203.0.113.9', `${salt}-other`));
  assert.match(a, /^[A-Za-z0-9_-]{22}$/);
  assert.ok(!a.includes('203'));
  // One IPv6 subscriber's /64 is one client; the next /64 is another.
  assert.equal(clientNetwork('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(clientHash('2001:db8:1:2::1', salt), clientHash('2001:db8:1:2:ffff:ffff:ffff:ffff', salt));
  assert.notEqual(clientHash('2001:db8:1:2::1', salt), clientHash('2001:db8:1:3::1', salt));
});

test('gateways share one salt: the configured one, or the first one stored', async () => {
  const store = new Map<string, string>();
  const redis = {
    async set(key: string, value: string, nx: 'NX') {
      assert.equal(nx, 'NX');
      if (!store.has(key)) store.set(key, value);
      return 'OK';
    },
    async get(key: string) {
      return store.get(key) ?? null;
    },
  };
  const first = await sharedClientSalt(redis, 'salt', {});
  const second = await sharedClientSalt(redis, 'salt', {});
  assert.equal(first, second);
  assert.ok(first.length >= 32);
  // After Redis lost it, the salt a gateway already has is offered again; a salt stored first wins.
  store.clear();
  assert.equal(await sharedClientSalt(redis, 'salt', {}, first), first);
  assert.equal(await sharedClientSalt(redis, 'salt', {}, 'another-candidate-salt'), first);
  assert.equal(await sharedClientSalt(redis, 'salt', { ASYNCLAB_CLIENT_SALT: 'configured-salt-1234' }), 'configured-salt-1234');
  await assert.rejects(sharedClientSalt(redis, 'salt', { ASYNCLAB_CLIENT_SALT: 'short' }), /at least 16/);
});
