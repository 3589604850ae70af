/**
 * Which web sites may use the public gateway (ASYNCLAB_PUBLIC_ORIGINS).
 *
 * Why exact origins and nothing looser: the gateway runs code for whoever asks, so the only thing
 * keeping another site from spending the fleet (and a reader's quota) from its own pages is the
 * browser-enforced `Origin`. A wildcard, a path or a prefix match would let `evil.example` or
 * `course.example.evil.test` in; so each entry must be exactly `scheme://host[:port]`, and a
 * mistake is a startup error that says what to write, not a gateway that quietly refuses everyone
 * (or admits everyone). Non-browser clients can send any Origin, which is why the per-client limits
 * exist as well: this gate keeps other *sites* out, the limits keep any one *client* in its share.
 */
import { previewTokenHeader } from '../runner/gate.ts';

/** Request headers as Node presents them. */
type Headers = Record<string, string | string[] | undefined>;

export type OriginCheck = { ok: true; origin: string } | { ok: false; status: 403; why: string };

/** Headers the page's fetches to a preview carry (the per-run capability) and may need preflighted. */
const previewRequestHeaders = ['content-type', previewTokenHeader];

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
export function checkPublicOrigin(headers: Headers, allowed: readonly string[]): OriginCheck {
  const raw = headers.origin;
  if (raw === undefined) return { ok: false, status: 403, why: 'missing Origin' };
  if (Array.isArray(raw)) return { ok: false, status: 403, why: 'more than one Origin' };
  if (raw.length > 300) return { ok: false, status: 403, why: 'an over-long Origin' };
  if (!allowed.includes(raw)) return { ok: false, status: 403, why: `Origin ${JSON.stringify(raw.slice(0, 100))} is not one of this runner's sites` };
  return { ok: true, origin: raw };
}

/**
 * CORS headers for a plain (non-WebSocket) response, e.g. the preview proxy's: the allowed origin
 * echoed (never `*`: the preview capability must only be usable from the listed sites), and always
 * `Vary: Origin`, so a shared cache never hands one site's answer to another. No credentials: the
 * capability travels in a header, not a cookie.
 */
export function corsHeaders(check: OriginCheck): Record<string, string> {
  if (!check.ok) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': check.origin,
    Vary: 'Origin',
  };
}

/**
 * The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin:
 * the methods a sandbox's routes use and the preview capability header, cached by the browser for
 * ten minutes. Refused origins get only `Vary: Origin`, which the browser treats as a refusal.
 */
export function preflightHeaders(check: OriginCheck): Record<string, string> {
  if (!check.ok) return { Vary: 'Origin' };
  return {
    ...corsHeaders(check),
    'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': previewRequestHeaders.join(', '),
    'Access-Control-Max-Age': '600',
  };
}
