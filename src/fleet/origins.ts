/**
 * Which sites may use a gateway (ASYNCLAB_PUBLIC_ORIGINS): the pages' origins, exactly as a
 * browser sends them in `Origin` (scheme://host[:port], no path). A request from any other
 * origin — or with none — is refused before any work, for the runner WebSocket and for previews.
 */
import type { IncomingMessage } from 'node:http';

export type OriginCheck = { ok: true; origin: string } | { ok: false; why: string };

export function parseOrigins(text: string | undefined): Set<string> {
  const list = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const origins = new Set<string>();
  for (const item of list) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new Error(`ASYNCLAB_PUBLIC_ORIGINS: ${JSON.stringify(item.slice(0, 80))} is not an origin (https://example.org)`);
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.origin !== item.replace(/\/$/, '')) {
      throw new Error(`ASYNCLAB_PUBLIC_ORIGINS: ${JSON.stringify(item.slice(0, 80))} must be scheme://host[:port] with nothing after it`);
    }
    origins.add(url.origin);
  }
  if (origins.size === 0) throw new Error('ASYNCLAB_PUBLIC_ORIGINS must list the site origins allowed to run sandboxes (comma-separated)');
  return origins;
}

export function checkOrigin(req: IncomingMessage, allowed: ReadonlySet<string>): OriginCheck {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === '') return { ok: false, why: 'missing Origin' };
  if (!allowed.has(origin)) return { ok: false, why: `Origin ${JSON.stringify(origin.slice(0, 100))} is not one of the site's` };
  return { ok: true, origin };
}

/** CORS headers granting one allowed origin (never `*`: the answer is for that site's page only). */
export function corsHeaders(origin: string): Record<string, string> {
  return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
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
