/**
 * What crosses the preview proxy in headers. Towards the app: the request's own headers, minus
 * hop-by-hop ones, cookies (cookies for 127.0.0.1 belong to every local app on any port, e.g. a
 * notebook server's session) and the runner's token, with the Host a local client would send.
 * Towards the page: the app's headers minus hop-by-hop ones and those that would act on the
 * site's origin or beyond it (cookies, Clear-Site-Data, HSTS, Alt-Svc, CORS grants, service
 * workers, CSP, Link preloads, Refresh), plus our own: a sandboxing CSP, nosniff, no-store.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
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

/*
 * What the app sends is the sandbox's, and the sandbox can write raw bytes to the proxy (issue 15,
 * item 2: `HTTP/1.1 200 O\x01K` or status `099` thrown by res.writeHead ended the process). So
 * nothing of the app's answer head reaches writeHead or a raw socket unchecked: the same rules
 * Node's own writeHead enforces, applied first, so that an invalid part is dropped or the answer
 * becomes 502, and writeHead never sees what it would throw on.
 */
const tokenName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const fieldValue = /^[\t\x20-\x7e\x80-\xff]*$/;
const reasonText = /^[\t\x20-\x7e]{0,128}$/;

/**
 * The status the page gets for the app's final answer: 200–599 as sent, else undefined (the
 * proxy answers 502). 1xx are never final (Node reports them apart), and 600+ is not HTTP.
 */
export function finalStatus(code: number | undefined): number | undefined {
  return code !== undefined && Number.isInteger(code) && code >= 200 && code <= 599 ? code : undefined;
}

/** The app's reason phrase when it is plain printable text, else the standard one for the status. */
export function reasonPhrase(status: number, text: string | undefined): string {
  return text !== undefined && reasonText.test(text) ? text : (STATUS_CODES[status] ?? 'Unknown');
}

/** A header the page may be sent as is: a token name, and a value without control characters. */
function validField(name: string, value: string | string[]): boolean {
  return tokenName.test(name) && (Array.isArray(value) ? value : [value]).every((v) => fieldValue.test(v));
}

/** The app's answer headers as the page may see them. `upgrade`: the app's 101 to a WebSocket upgrade. */
export function toPage(headers: IncomingHttpHeaders, upgrade = false): Record<string, string | string[]> {
  const dropped = listedInConnection(headers);
  const out: Record<string, string | string[]> = upgrade ? { Upgrade: 'websocket', Connection: 'Upgrade' } : {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHop.has(name) || neverToPage.has(name) || dropped.has(name) || name.startsWith('access-control-')) continue;
    if (!validField(name, value)) continue; // an invalid header from the app is dropped, never passed on
    out[name] = value;
  }
  return { ...out, ...guardHeaders };
}

/** A raw HTTP/1.1 head, for answers written straight to a socket (upgrades). */
export function rawHead(status: number, statusText: string, headers: Record<string, string | string[] | number>): string {
  const lines = [`HTTP/1.1 ${status} ${reasonPhrase(status, statusText)}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      const text = String(v);
      if (!tokenName.test(name) || !fieldValue.test(text)) continue; // never a CR, LF or other control character on the wire
      lines.push(`${name}: ${text}`);
    }
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
