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

/** `Host` names this machine on this port: 127.0.0.1:P, localhost:P or [::1]:P (any case). */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  return allowedHosts.includes((host ?? '').toLowerCase());
}

function checkHost(req: IncomingMessage, port: number): GateResult {
  const host = req.headers.host ?? '';
  if (!isLoopbackHost(host, port)) return { ok: false, status: 403, why: `Host "${host.slice(0, 100)}" is not this machine` };
  return { ok: true };
}

/** Origin present and exactly the page's own (run after checkHost). */
function checkOrigin(req: IncomingMessage): GateResult {
  const origin = req.headers.origin;
  if (!origin) return { ok: false, status: 403, why: 'missing Origin' };
  if (origin !== `http://${(req.headers.host ?? '').toLowerCase()}`) return { ok: false, status: 403, why: `Origin "${origin}" is not this site` };
  return { ok: true };
}

export function checkUpgrade(req: IncomingMessage, opts: { port: number; token: string }): GateResult {
  const host = checkHost(req, opts.port);
  if (!host.ok) return host;
  const origin = checkOrigin(req);
  if (!origin.ok) return origin;
  const url = new URL(req.url ?? '/', 'http://runner');
  const token = url.searchParams.get('token') ?? '';
  if (!tokensEqual(token, opts.token)) return { ok: false, status: 401, why: 'missing or wrong token' };
  return { ok: true };
}

/** The header a page's preview requests carry the token in (README "Live preview"). */
export const previewTokenHeader = 'x-asynclab-token';

/**
 * The gate of the preview proxy (/__runner/preview/…), the same as the runner's: loopback
 * Host; an exact Origin on WebSockets, and on plain requests wherever the browser sends one
 * (and `Sec-Fetch-Site: same-origin` where it sends that); the per-process token — in the
 * `X-AsyncLab-Token` header for plain requests (so no link, form, image, script or navigation
 * can ever load a preview response: only the page's own fetch), in the query for WebSockets,
 * which cannot carry headers (`token`, taken from the URL by the caller).
 */
export function checkPreview(req: IncomingMessage, opts: { port: number; token: string; websocket: boolean; queryToken?: string | undefined }): GateResult {
  const host = checkHost(req, opts.port);
  if (!host.ok) return host;
  if (opts.websocket || req.headers.origin !== undefined) {
    const origin = checkOrigin(req);
    if (!origin.ok) return origin;
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return { ok: false, status: 403, why: `a ${site} request` };
  const given = opts.websocket ? (opts.queryToken ?? '') : String(req.headers[previewTokenHeader] ?? '');
  if (!tokensEqual(given, opts.token)) return { ok: false, status: 401, why: 'missing or wrong token' };
  return { ok: true };
}
