/**
 * Which run and which path a preview request is for: `/__runner/preview/<capability>/<path>`.
 * The proxy never takes a destination from the request — it always connects to the run's
 * own socket — so the path only has to stay a plain path of the app: no `.`/`..` segments
 * (raw or percent-encoded), no encoded slashes, backslashes or NULs, no leading `//`, no
 * control characters, and no absolute-form target (`GET http://host/…`).
 */
import { capabilityPattern, previewPrefix } from './registry.ts';

/** Query parameter a WebSocket carries the runner token in; removed before the app sees the URL. */
export const previewTokenParam = '__asynclab_token';

const maxUrlBytes = 4096;

export type Refusal = { ok: false; status: number; code: string; why: string };
export type Target = { ok: true; capability: string; path: string; queryToken: string | undefined } | Refusal;

export const refusal = (status: number, code: string, why: string): Refusal => ({ ok: false, status, code, why });

/** Requests the proxy answers: everything under the prefix, and absolute-form targets aimed at it (to refuse them clearly). */
export function isPreviewRequest(url: string | undefined): boolean {
  if (!url) return false;
  return url.startsWith(previewPrefix) || url === previewPrefix.slice(0, -1) || (!url.startsWith('/') && url.includes(previewPrefix));
}

export function parseTarget(rawUrl: string): Target {
  if (!rawUrl.startsWith('/')) return refusal(400, 'bad-target', 'only origin-form targets (/__runner/preview/…) are proxied, not absolute URLs');
  if (Buffer.byteLength(rawUrl) > maxUrlBytes) return refusal(414, 'too-large', `the URL is longer than ${maxUrlBytes} bytes`);
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const rawQuery = q < 0 ? undefined : rawUrl.slice(q + 1);
  const after = rawPath.startsWith(previewPrefix) ? rawPath.slice(previewPrefix.length) : '';
  const slash = after.indexOf('/');
  const capability = slash < 0 ? after : after.slice(0, slash);
  if (!capabilityPattern.test(capability)) return refusal(404, 'unknown-run', 'no such preview');
  const path = slash < 0 ? '/' : after.slice(slash);
  const trick = pathTrick(path) ?? (rawQuery !== undefined && /[\x00-\x20\x7f#]/.test(rawQuery) ? 'control characters, spaces or # in the query' : undefined);
  if (trick) return refusal(400, 'bad-path', `refused: ${trick}`);
  let queryToken: string | undefined;
  let query = rawQuery;
  if (rawQuery !== undefined) {
    const kept = rawQuery.split('&').filter((part) => {
      if (part !== previewTokenParam && !part.startsWith(`${previewTokenParam}=`)) return true;
      queryToken ??= safeDecode(part.slice(previewTokenParam.length + 1));
      return false;
    });
    query = kept.length ? kept.join('&') : undefined;
  }
  return { ok: true, capability, path: query === undefined ? path : `${path}?${query}`, queryToken };
}

function pathTrick(path: string): string | undefined {
  if (/[\x00-\x20\x7f\\#]/.test(path)) return 'control characters, spaces, backslashes or # in the path';
  if (path.startsWith('//')) return 'a path starting with //';
  if (/%(?![0-9a-fA-F]{2})/.test(path)) return 'a malformed percent-encoding in the path';
  if (/%(2f|5c|00)/i.test(path)) return 'an encoded slash, backslash or NUL in the path';
  const dots = path.split('/').some((segment) => {
    const plain = segment.replace(/%2e/gi, '.');
    return plain === '.' || plain === '..';
  });
  return dots ? '. or .. segments in the path' : undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
