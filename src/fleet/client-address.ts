/**
 * Who a request comes from, for the public gateway's per-client limits and its logs.
 *
 * Why it is careful: the gateway runs strangers' code and shares its capacity between them, so the
 * client's identity decides fairness. The direct peer is the only address nobody can forge. A
 * load balancer in front of the gateway hides it, so `X-Forwarded-For` is read, but only when the
 * peer is one of the operator's proxies (`ASYNCLAB_TRUSTED_PROXIES`); a stranger who connects
 * directly and sends the header is just lying, and is keyed by its own address. Even behind a
 * proxy only the right-most entries were written by machines we trust: the list is walked from
 * the right, past trusted proxies, and the first address that is not one of them is the client
 * (everything to its left came from the client itself and may be made up).
 *
 * The address itself never leaves this module's callers' memory: logs and Redis keys get a salted
 * hash of the client's *network* (an IPv4 address, or the /64 an IPv6 host is given — one
 * subscriber holds a whole /64, so keying by full IPv6 address would hand each reader 2^64 quotas).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/** The proxies whose `X-Forwarded-For` is believed. */
export interface TrustedProxies {
  /** True when `address` (any form: IPv4, IPv6, IPv4-mapped IPv6) is one of the operator's proxies. */
  has(address: string): boolean;
  /** How many entries were configured (0: no proxy is trusted, the header is never read). */
  readonly size: number;
}

/** What a request looks like to this module: just the peer and the headers (an http.IncomingMessage fits). */
export interface RequestLike {
  socket: { remoteAddress?: string | undefined };
  headers: Record<string, string | string[] | undefined>;
}

/** Longest X-Forwarded-For we read, and most hops we walk: a real chain is a handful of proxies. */
const maxHeaderChars = 4_096;
const maxHops = 16;

/**
 * An address in one canonical form, or null if it is not an IP address: IPv4 dotted; IPv6 fully
 * lower-case, compressed by Node's own rules; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, as a
 * dual-stack socket reports IPv4 peers) becomes the IPv4 address, so one client has one identity.
 * Accepts a zone (`fe80::1%eth0`, dropped), brackets (`[::1]`) and a port (`1.2.3.4:80`, `[::1]:80`),
 * which some proxies add to X-Forwarded-For.
 */
export function normaliseAddress(raw: string): string | null {
  let text = raw.trim();
  if (text.length === 0 || text.length > 64) return null;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1]!;
  else if (/^[\d.]+:\d{1,5}$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  text = text.replace(/%[\w.-]+$/, '');
  const family = isIP(text);
  if (family === 4) return text.split('.').map((part) => String(Number(part))).join('.');
  if (family !== 6) return null;
  const groups = expandIpv6(text);
  if (!groups) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return compressIpv6(groups);
}

/** The eight 16-bit groups of a valid IPv6 address (isIP already said it is one). */
function expandIpv6(text: string): number[] | null {
  let body = text.toLowerCase();
  // A trailing dotted quad (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is the last two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(body);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    body = `${body.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = body.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** RFC 5952 form: lower case, the longest run (≥ 2) of zero groups as `::`. */
function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * Parses ASYNCLAB_TRUSTED_PROXIES: a comma list of addresses and CIDR ranges, IPv4 or IPv6
 * (`10.0.0.0/8, 192.168.1.7, fd00::/8`). An entry that is not one is a startup error naming it:
 * silently dropping a mistyped proxy would key every reader by the proxy's address.
 */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  const list = new BlockList();
  const entries = (value ?? '').split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  for (const entry of entries) {
    const [addressPart, prefixPart, extra] = entry.split('/');
    const address = normaliseAddress(addressPart ?? '');
    const family = address ? (isIP(address) === 4 ? 'ipv4' : 'ipv6') : null;
    const maxPrefix = family === 'ipv4' ? 32 : 128;
    const prefix = prefixPart === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixPart) ? Number(prefixPart) : NaN;
    if (!address || !family || extra !== undefined || !(prefix >= 0 && prefix <= maxPrefix)) {
      throw new Error(`ASYNCLAB_TRUSTED_PROXIES: "${entry.slice(0, 80)}" is not an IP address or CIDR range (write e.g. 10.0.0.0/8, 192.168.1.7 or fd00::/8)`);
    }
    list.addSubnet(address, prefix, family);
  }
  return {
    size: entries.length,
    has(raw: string): boolean {
      const address = normaliseAddress(raw);
      if (!address) return false;
      return list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** Every X-Forwarded-For value of a request, in order, however Node or a caller presented repeats. */
function forwardedFor(headers: RequestLike['headers']): string[] {
  const raw = headers['x-forwarded-for'];
  const joined = Array.isArray(raw) ? raw.join(',') : raw;
  if (joined === undefined) return [];
  // A header longer than any honest chain: read only its right-most part, which our proxies wrote.
  const tail = joined.length > maxHeaderChars ? joined.slice(-maxHeaderChars) : joined;
  const parts = tail.split(',');
  // The first piece of a cut header is probably half an address: it is not trusted as one.
  if (joined.length > maxHeaderChars) parts[0] = '';
  return parts;
}

/**
 * The client's address: the direct peer, unless the peer is a trusted proxy, in which case the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy. If the walk meets an entry
 * that is not an address (garbage, an empty slot, `unknown`), or runs out of entries or hops, the
 * last address it reached is the answer: every one up to there was vouched for by a trusted hop,
 * nothing to its left is. Null only when the socket has no peer address (it already closed).
 */
export function clientAddress(req: RequestLike, trusted: TrustedProxies): string | null {
  const peer = normaliseAddress(req.socket.remoteAddress ?? '');
  if (!peer) return null;
  if (trusted.size === 0 || !trusted.has(peer)) return peer;
  const entries = forwardedFor(req.headers);
  let current = peer;
  for (let i = entries.length - 1, hops = 0; i >= 0 && hops < maxHops; i -= 1, hops += 1) {
    const address = normaliseAddress(entries[i]!);
    if (!address) return current;
    current = address;
    if (!trusted.has(address)) return address;
  }
  return current;
}

/**
 * The part of an address that names one client: an IPv4 address as it is, an IPv6 address's /64
 * network (written `2001:db8:1:2::/64`), since a single host or subscriber is routinely given a
 * whole /64 and can pick any address in it.
 */
export function clientNetwork(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  if (!groups) return address;
  return `${compressIpv6([...groups.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/**
 * A salted, one-way name for a client, for Redis keys, fairness and logs: equal for every request
 * from one client network at every gateway sharing the salt, and not reversible to the address
 * without the salt (an IPv4 space is small enough to brute-force an unsalted hash). 128 bits,
 * base64url: short in logs, and collisions between real clients are not a concern.
 */
export function clientHash(address: string, salt: string): string {
  return createHmac('sha256', salt).update(clientNetwork(address)).digest('base64url').slice(0, 22);
}

/** A fresh random salt, for a gateway with no shared salt (tests; a single gateway). */
export function newClientSalt(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The salt every gateway of one fleet shares: ASYNCLAB_CLIENT_SALT if the operator set one, else
 * one random salt stored once in the fleet's Redis (the first gateway to ask writes it; SET NX, so
 * two gateways starting together still agree). Shared because per-client limits are keyed by the
 * hash: gateways with different salts would each give a client a full quota. A gateway offers the
 * salt it already has as the `candidate` when it asks again (after Redis restarted empty), so the
 * fleet's gateways converge on one salt whichever of them asks first.
 */
export async function sharedClientSalt(
  redis: { set(key: string, value: string, nx: 'NX'): Promise<unknown>; get(key: string): Promise<string | null> },
  key: string,
  env: NodeJS.ProcessEnv = process.env,
  candidate: string = newClientSalt(),
): Promise<string> {
  const configured = env.ASYNCLAB_CLIENT_SALT?.trim();
  if (configured) {
    if (configured.length < 16) throw new Error('ASYNCLAB_CLIENT_SALT must be at least 16 characters (a random string, the same on every gateway)');
    return configured;
  }
  await redis.set(key, candidate, 'NX');
  const stored = await redis.get(key);
  if (!stored) throw new Error(`the fleet's Redis did not keep the client salt (${key})`);
  return stored;
}
