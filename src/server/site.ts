import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import path from 'node:path';
import sirv from 'sirv';
import { isolationHeaders } from './headers.ts';
import { locales } from '../i18n/locales.ts';
import { isLoopbackHost } from '../runner/gate.ts';

export interface SiteOptions {
  /** The built site (`dist/`). */
  root: string;
  /** Markup inserted before `</head>` of every page (the runner's token meta tag). */
  headHtml?: string;
  /**
   * The port the server listens on, when requests must name this machine in `Host` (as the
   * runner's gate does): a page on a rebinding domain then cannot read ours, token included.
   */
  port?: () => number;
}

export type SitePath = { ok: true; pathname: string } | { ok: false; status: number; why: string };

/**
 * The decoded path of a request target, or why it cannot be one. Every malformed target is this
 * request's 400, never an exception: a `%ff` in an `<img src>` on any website must not reach
 * `decodeURIComponent` unguarded (issue 15, item 1). Only origin-form targets (`/…`) name a file
 * here; `//host/…` would be read by a URL parser as another host, so it is refused too.
 */
export function parseSitePath(rawUrl: string | undefined): SitePath {
  const url = rawUrl ?? '';
  if (!url.startsWith('/') || url.startsWith('//')) return { ok: false, status: 400, why: 'the request target is not a path' };
  const end = url.search(/[?#]/);
  const raw = end < 0 ? url : url.slice(0, end);
  let pathname: string;
  try {
    pathname = decodeURIComponent(raw);
  } catch {
    return { ok: false, status: 400, why: 'malformed percent-encoding in the path' };
  }
  if (/[\x00-\x1f\x7f]/.test(pathname)) return { ok: false, status: 400, why: 'control characters in the path' };
  return { ok: true, pathname };
}

/**
 * A `Range` header sirv can serve: one `bytes=start-[end]` with start ≤ end. sirv passes any
 * other to `fs.createReadStream`, which throws on start > end (`bytes=5-2`), and reads a suffix
 * range (`bytes=-5`) as a prefix; ignoring such a header is allowed (RFC 9110 §14.2): full answer.
 */
function servableRange(value: string | undefined): boolean {
  const m = value === undefined ? null : /^bytes=(\d{1,15})-(\d{0,15})$/.exec(value);
  return m !== null && (m[2] === '' || Number(m[1]) <= Number(m[2]));
}

/**
 * Serves the built site: pages from memory (with `headHtml` added), other files from
 * disk via sirv; cross-origin isolation headers on every response, long caching for
 * Astro's hashed assets, and a 404 page in the language of the missing URL.
 */
export async function createSiteHandler({ root, headHtml = '', port }: SiteOptions): Promise<RequestListener> {
  if (!existsSync(path.join(root, 'index.html'))) {
    throw new Error(`No built site in ${root}: run \`npm run build\` first (npm start does it for you).`);
  }
  const pages = await loadPages(root, headHtml);

  const sendPage = (req: IncomingMessage, res: ServerResponse, body: Buffer, status = 200) => {
    res.writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const sendNotFound = (req: IncomingMessage, res: ServerResponse) => {
    const first = (req.url ?? '/').split('/')[1];
    const lang = locales.find((l) => l === first);
    sendPage(req, res, pages.get(lang ? `/${lang}/404.html` : '/404.html') ?? Buffer.from('Not found'), 404);
  };

  const files = sirv(root, {
    dev: false,
    etag: true,
    setHeaders(res, pathname) {
      // Astro fingerprints everything under /_astro/, and /_pyodide/<version>/ names its version:
      // neither ever changes at a given URL.
      const immutable = pathname.startsWith('/_astro/') || pathname.startsWith('/_pyodide/');
      res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
    onNoMatch: sendNotFound,
  });

  const refuse = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(`${text}\n`);
  };

  return (req, res) => {
    for (const [name, value] of Object.entries(isolationHeaders)) res.setHeader(name, value);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (port && !isLoopbackHost(req.headers.host, port())) {
      // 421: this server does not answer for that name (a rebinding domain, or a typo).
      return refuse(res, 421, 'Misdirected request: this server answers only to 127.0.0.1, localhost and [::1] on its own port');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
    const target = parseSitePath(req.url);
    if (!target.ok) return refuse(res, target.status, `Bad request: ${target.why}`);
    if (req.headers.range !== undefined && !servableRange(req.headers.range)) delete req.headers.range;
    const { pathname } = target;
    const page = pages.get(pathname) ?? pages.get(`${pathname}/`);
    if (page) return sendPage(req, res, page);
    files(req, res, () => sendNotFound(req, res));
  };
}

/**
 * Every HTML page of the build, by each URL it answers to (`/en/`, `/en/index.html`,
 * `/en/404.html`, `/en/404`), with `headHtml` added. The site is small: memory is cheap,
 * and each page is rewritten once, not per request.
 */
async function loadPages(root: string, headHtml: string): Promise<Map<string, Buffer>> {
  const pages = new Map<string, Buffer>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '_astro' && entry.name !== 'pagefind') await walk(full);
        continue;
      }
      if (!entry.name.endsWith('.html')) continue;
      const html = await readFile(full, 'utf8');
      const body = Buffer.from(headHtml ? html.replace('</head>', `${headHtml}</head>`) : html);
      const url = `/${path.relative(root, full).split(path.sep).join('/')}`;
      pages.set(url, body);
      if (url.endsWith('/index.html')) pages.set(url.slice(0, -'index.html'.length), body);
      else pages.set(url.slice(0, -'.html'.length), body);
    }
  };
  await walk(root);
  return pages;
}
