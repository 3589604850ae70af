/**
 * How the page reaches a running server through a runner's preview proxy (README "Live
 * preview"): `/__runner/preview/<capability>/<path>`. On the local runner (this page's origin)
 * the runner's token goes in the X-AsyncLab-Token header for HTTP and in the
 * `__asynclab_token` query parameter for WebSockets. On the hosted runner (`access.origin`, the
 * gateway's, another origin) there is no token: the unguessable capability is the key, and
 * requests are plain CORS ones without credentials. Redirects are never followed (a redirect
 * could take the token, or the reader, elsewhere).
 */
import type { PreviewAccess } from '../../engines/engine.ts';

export const tokenHeader = 'X-AsyncLab-Token';
export const tokenParam = '__asynclab_token';

/** The proxy URL of an app path (`/items/3?q=x`): relative to this page's origin, or absolute on the gateway's. */
export function previewUrl(access: Pick<PreviewAccess, 'path' | 'origin'>, appPath: string): string {
  const path = appPath.startsWith('/') ? appPath : `/${appPath}`;
  return `${access.origin ?? ''}${access.path.replace(/\/$/, '')}${path}`;
}

/** The ws(s):// URL for a WebSocket to an app path: on the gateway's host, or on this page's with the token. */
export function previewSocketUrl(access: Pick<PreviewAccess, 'path' | 'origin' | 'token'>, appPath: string, page: { protocol: string; host: string }): string {
  const where = access.origin ? new URL(access.origin) : page;
  const scheme = where.protocol === 'https:' ? 'wss' : 'ws';
  const url = previewUrl({ path: access.path }, appPath);
  if (!access.token) return `${scheme}://${where.host}${url}`;
  return `${scheme}://${where.host}${url}${url.includes('?') ? '&' : '?'}${tokenParam}=${encodeURIComponent(access.token)}`;
}

export function previewFetch(access: PreviewAccess, appPath: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (access.token) headers.set(tokenHeader, access.token);
  return fetch(previewUrl(access, appPath), { ...init, headers, redirect: 'manual', cache: 'no-store', credentials: 'omit' });
}

/** The runner's own refusal (not the app's answer): its code, from the X-AsyncLab-Preview-Refused header. */
export function refusedBy(response: Response): string | undefined {
  return response.headers.get('x-asynclab-preview-refused') ?? undefined;
}

export interface ServerSentEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * A text/event-stream parser (the HTML spec's rules, minus reconnection): feed it text as it
 * arrives; it calls `onEvent` for each complete event.
 */
export function eventStreamParser(onEvent: (event: ServerSentEvent) => void): (chunk: string) => void {
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  const line = (text: string) => {
    if (text === '') {
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n'), id });
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return; // a comment (keep-alive)
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
    else if (name === 'id' && !value.includes('\0')) id = value;
  };
  return (chunk) => {
    buffer += chunk;
    // A trailing \r may be the first half of \r\n: hold it back until the next chunk.
    const heldCr = buffer.endsWith('\r');
    const lines = (heldCr ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
    const rest = lines.pop() ?? '';
    buffer = heldCr ? `${rest}\r` : rest;
    for (const text of lines) line(text);
  };
}
