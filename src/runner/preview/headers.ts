/**
 * What crosses the preview proxy in headers. Towards the app: the request's own headers, minus
 * hop-by-hop ones, cookies (cookies for 127.0.0.1 belong to every local app on any port, e.g. a
 * notebook server's session) and the runner's token, with the Host a local client would send.
 * Towards the page: the app's headers minus hop-by-hop ones and those that would act on the
 * site's origin or beyond it (cookies, Clear-Site-Data, HSTS, Alt-Svc, CORS grants, service
 * workers, CSP, Link preloads, Refresh), plus our own: a sandboxing CSP, nosniff, no-store.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { previewTokenHeader } from '../gate.ts';

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const neverToApp = new Set(['host', 'cookie', 'cookie2', previewTokenHeader, 'forwarded', 'content-length', 'expect']);

const neverToPage = new Set([
  'set-cookie',
  'set-cookie2',
  'clear-site-data',
  'strict-transport-security',
  'alt-svc',
  'service-worker-allowed',
  'content-security-policy',
  'content-security-policy-report-only',
  'link',
  'refresh',
  'report-to',
  'reporting-endpoints',
  'nel',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'cross-origin-resource-policy',
  'x-frame-options',
]);

/** Added to every answer of the proxy: whatever the app sends, the browser never runs or renders it as the site. */
export const guardHeaders: Record<string, string> = {
  'Content-Security-Policy': "sandbox; default-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};

function listedInConnection(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  return new Set(String(value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
}

/** Headers for the request to the app, from the page's raw headers (order and case kept). */
export function toApp(rawHeaders: string[], headers: IncomingHttpHeaders, appPort: number, upgrade: boolean): OutgoingHttpHeaders & Record<string, string | string[]> {
  const dropped = listedInConnection(headers);
  const out: Record<string, string | string[]> = { Host: `127.0.0.1:${appPort}` };
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower) || neverToApp.has(lower) || dropped.has(lower) || lower.startsWith('x-forwarded-') || lower.startsWith('x-asynclab-')) continue;
    const existing = out[name];
    out[name] = existing === undefined ? rawHeaders[i + 1]! : ([] as string[]).concat(existing, rawHeaders[i + 1]!);
  }
  if (upgrade) {
    out.Connection = 'Upgrade';
    out.Upgrade = 'websocket';
  }
  return out;
}

/** The app's answer headers as the page may see them. `upgrade`: the app's 101 to a WebSocket upgrade. */
export function toPage(headers: IncomingHttpHeaders, upgrade = false): Record<string, string | string[]> {
  const dropped = listedInConnection(headers);
  const out: Record<string, string | string[]> = upgrade ? { Upgrade: 'websocket', Connection: 'Upgrade' } : {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHop.has(name) || neverToPage.has(name) || dropped.has(name) || name.startsWith('access-control-')) continue;
    out[name] = value;
  }
  return { ...out, ...guardHeaders };
}

/** A raw HTTP/1.1 head, for answers written straight to a socket (upgrades). */
export function rawHead(status: number, statusText: string, headers: Record<string, string | string[] | number>): string {
  const lines = [`HTTP/1.1 ${status} ${statusText}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      const text = String(v);
      if (/[\r\n]/.test(text)) continue; // Node already refuses these from the app; never pass one on
      lines.push(`${name}: ${text}`);
    }
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
