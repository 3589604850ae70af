/**
 * Which web sites may use a public gateway (ASYNCLAB_PUBLIC_ORIGINS): the pages' origins, exactly as a
 * browser sends them in `Origin` (scheme://host[:port], no path). A request from any other origin, or
 * with none, is refused before any work, for the runner WebSocket and for previews.
 *
 * Why exact origins and nothing looser: the gateway runs code for whoever asks, so the only thing
 * keeping another site from spending the fleet (and a reader's quota) from its own pages is the
 * browser-enforced `Origin`. A wildcard, a path or a prefix match would let `evil.example` or
 * `course.example.evil.test` in; so each entry must be exactly `scheme://host[:port]`, and a
 * mistake is a startup error that says what to write, not a gateway that quietly refuses everyone
 * (or admits everyone). Non-browser clients can send any Origin, which is why the per-client limits
 * exist as well: this gate keeps other *sites* out, the limits keep any one *client* in its share.
 */
import type { IncomingMessage } from 'node:http';

export type OriginCheck = { ok: true; origin: string } | { ok: false; status: 403; why: string };

/** One entry of ASYNCLAB_PUBLIC_ORIGINS as the browser writes it in `Origin`, or why it is not one. */
function parseOrigin(entry: string): { origin: string } | { problem: string } {
  if (entry.includes('*')) return { problem: 'wildcards are not allowed: list each site origin exactly' };
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return { problem: 'not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: `the scheme must be https or http, not ${url.protocol.slice(0, -1)}` };
  if (url.username || url.password) return { problem: 'no user name or password belongs in an origin' };
  // `new URL` adds "/" to a bare origin; anything the entry wrote after the authority is a path, query or fragment.
  const afterAuthority = entry.replace(/^[a-z]+:\/\/[^/?#]*/i, '');
  if (afterAuthority !== '') return { problem: `an origin has no path, query or trailing slash: write ${url.origin}` };
  return { origin: url.origin };
}

/**
 * Parses ASYNCLAB_PUBLIC_ORIGINS (comma-separated `https://course.example`, `http://localhost:4321`)
 * into the exact origin strings a browser sends (lower-case host, default port dropped). Throws one
 * error listing every bad entry, or saying that the list is empty: a public gateway with no site
 * allowed is a misconfiguration, not a valid state.
 */
export function parsePublicOrigins(value: string | undefined): string[] {
  const entries = (value ?? '').split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length === 0) {
    throw new Error('ASYNCLAB_PUBLIC_ORIGINS is empty: list the origins of the sites that may run sandboxes here, e.g. https://course.example,http://localhost:4321');
  }
  const origins: string[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const parsed = parseOrigin(entry);
    if ('problem' in parsed) problems.push(`"${entry.slice(0, 100)}": ${parsed.problem}`);
    else if (!origins.includes(parsed.origin)) origins.push(parsed.origin);
  }
  if (problems.length > 0) throw new Error(`ASYNCLAB_PUBLIC_ORIGINS: ${problems.join('; ')}`);
  return origins;
}

/**
 * Whether a request's `Origin` is one of the allowed sites. Missing, `null` (sandboxed frames,
 * file: pages), repeated or over-long Origins are refused: a browser sends exactly one, and the
 * gateway acts only for pages it can attribute to a listed site.
 */
export function checkOrigin(req: Pick<IncomingMessage, 'headers'>, allowed: ReadonlySet<string>): OriginCheck {
  const raw = req.headers.origin;
  if (raw === undefined) return { ok: false, status: 403, why: 'missing Origin' };
  if (Array.isArray(raw)) return { ok: false, status: 403, why: 'more than one Origin' };
  if (raw.length > 300) return { ok: false, status: 403, why: 'an over-long Origin' };
  if (!allowed.has(raw)) return { ok: false, status: 403, why: `Origin ${JSON.stringify(raw.slice(0, 100))} is not one of this runner's sites` };
  return { ok: true, origin: raw };
}

/** CORS headers granting one allowed origin (never `*`: the answer is for that site's page only). */
export function corsHeaders(origin: string): Record<string, string> {
  // The page reads the answer's headers (the preview panel lists them; refusals carry their code in
  // X-AsyncLab-Preview-Refused): `*` exposes them all, as requests here carry no credentials.
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': '*', Vary: 'Origin' };
}

/** The answer to a preflight from an allowed origin: the methods the preview proxy forwards, the headers asked for. */
export function preflightHeaders(origin: string, req: IncomingMessage): Record<string, string> {
  const asked = String(req.headers['access-control-request-headers'] ?? '');
  // Only plain header names go back (an answer header must never carry what a request smuggled in).
  const names = asked.split(',').map((s) => s.trim()).filter((s) => /^[A-Za-z0-9-]{1,64}$/.test(s)).slice(0, 32);
  return {
    ...corsHeaders(origin),
    'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
    ...(names.length ? { 'Access-Control-Allow-Headers': names.join(', ') } : {}),
    'Access-Control-Max-Age': '600',
  };
}
