/**
 * Who may talk to the runner. It executes code, so a page on any other site must not
 * reach it (the Jupyter model, DESIGN §5):
 *   - the server binds loopback only (src/server);
 *   - `Host` must be 127.0.0.1:P, localhost:P or [::1]:P — a DNS-rebinding page has its own name there;
 *   - `Origin` must be present and equal the page's own origin, http://<that host>;
 *   - the per-process 256-bit token the serving page embeds, compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison that does not leak the length either (both sides hashed first). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

export type GateResult = { ok: true } | { ok: false; status: number; why: string };

export function checkUpgrade(req: IncomingMessage, opts: { port: number; token: string }): GateResult {
  const host = req.headers.host ?? '';
  const allowedHosts = [`127.0.0.1:${opts.port}`, `localhost:${opts.port}`, `[::1]:${opts.port}`];
  if (!allowedHosts.includes(host.toLowerCase())) return { ok: false, status: 403, why: `Host "${host}" is not this machine` };
  const origin = req.headers.origin;
  if (!origin) return { ok: false, status: 403, why: 'missing Origin' };
  if (origin !== `http://${host.toLowerCase()}`) return { ok: false, status: 403, why: `Origin "${origin}" is not this site` };
  const url = new URL(req.url ?? '/', 'http://runner');
  const token = url.searchParams.get('token') ?? '';
  if (!tokensEqual(token, opts.token)) return { ok: false, status: 401, why: 'missing or wrong token' };
  return { ok: true };
}
