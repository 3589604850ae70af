/**
 * How the page reaches a running server through the runner's preview proxy (README "Live
 * preview"): `/__runner/preview/<capability>/<path>`; the runner's token in the
 * X-AsyncLab-Token header for HTTP, in the `__asynclab_token` query parameter for WebSockets.
 * Redirects are never followed (a redirect could take the token elsewhere).
 */
import type { PreviewAccess } from '../../engines/engine.ts';

export const tokenHeader = 'X-AsyncLab-Token';
export const tokenParam = '__asynclab_token';

/** The proxy URL of an app path (`/items/3?q=x`), relative to this page's origin. */
export function previewUrl(access: Pick<PreviewAccess, 'path'>, appPath: string): string {
  const path = appPath.startsWith('/') ? appPath : `/${appPath}`;
  return `${access.path.replace(/\/$/, '')}${path}`;
}

/** The ws:// URL for a WebSocket to an app path, token included. */
export function previewSocketUrl(access: PreviewAccess, appPath: string, origin: { protocol: string; host: string }): string {
  const url = previewUrl(access, appPath);
  const scheme = origin.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${origin.host}${url}${url.includes('?') ? '&' : '?'}${tokenParam}=${encodeURIComponent(access.token)}`;
}

export function previewFetch(access: PreviewAccess, appPath: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set(tokenHeader, access.token);
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
