import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import sirv from 'sirv';
import { codingSuffix, minCompressBytes, negotiateEncoding, type Coding } from './encoding.ts';
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

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * A page compressed for one response coding. Pages carry this process's runner token, so the
 * build's `.html.br` cannot be sent as is; each page is compressed on its first request and
 * kept. Brotli quality 9 takes ~40 ms on our largest page (quality 11: ~0.7 s, ~14 % smaller).
 */
function compressPage(body: Buffer, coding: Coding): Promise<Buffer> {
  if (coding === 'gzip') return gzip(body, { level: 9 });
  return brotli(body, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    },
  });
}

/**
 * Serves the built site: pages from memory (with `headHtml` added), other files from
 * disk via sirv; cross-origin isolation headers on every response, long caching for
 * Astro's hashed assets, and a 404 page in the language of the missing URL. Responses
 * are brotli- or gzip-compressed when the request accepts it (q-values honoured): pages
 * in memory, files from the `.br`/`.gz` the build put beside them (src/tools/precompress.ts).
 * A Range request always gets the identity bytes, so its offsets mean what the client meant.
 */
export async function createSiteHandler({ root, headHtml = '', port }: SiteOptions): Promise<RequestListener> {
  if (!existsSync(path.join(root, 'index.html'))) {
    throw new Error(`No built site in ${root}: run \`npm run build\` first (npm start does it for you).`);
  }
  const pages = await loadPages(root, headHtml);
  const variants = await loadVariants(root);

  const packed = new WeakMap<Buffer, Partial<Record<Coding, Promise<Buffer>>>>();
  const packPage = (body: Buffer, coding: Coding): Promise<Buffer> => {
    let forBody = packed.get(body);
    if (!forBody) packed.set(body, (forBody = {}));
    return (forBody[coding] ??= compressPage(body, coding));
  };

  const sendPage = async (req: IncomingMessage, res: ServerResponse, body: Buffer, status = 200) => {
    const compressible = body.length >= minCompressBytes;
    const coding = compressible && req.headers.range === undefined ? negotiateEncoding(req.headers['accept-encoding'], ['br', 'gzip']) : undefined;
    let payload = body;
    let encoding: Coding | undefined;
    if (coding) {
      try {
        payload = await packPage(body, coding);
        encoding = coding;
      } catch {
        packed.delete(body); // try again next time; this reader gets the plain page
      }
    }
    res.writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': payload.length,
      'Cache-Control': 'no-cache',
      ...(compressible ? { Vary: 'Accept-Encoding' } : {}),
      ...(encoding ? { 'Content-Encoding': encoding } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : payload);
  };

  const sendNotFound = (req: IncomingMessage, res: ServerResponse) => {
    const first = (req.url ?? '/').split('/')[1];
    const lang = locales.find((l) => l === first);
    void sendPage(req, res, pages.get(lang ? `/${lang}/404.html` : '/404.html') ?? Buffer.from('Not found'), 404);
  };

  const files = sirv(root, {
    dev: false,
    etag: true,
    // sirv sends `file.br`/`file.gz` when the request's Accept-Encoding names that coding, with
    // Content-Encoding, its own Content-Length and ETag, and Vary; the handler below rewrites
    // Accept-Encoding to the one coding it chose, so q-values and Range are decided there.
    brotli: true,
    gzip: true,
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
    if (page) return void sendPage(req, res, page);
    // A `.br`/`.gz` the build wrote is a way of sending its file, not a page of the site.
    if (variants.has(pathname)) return sendNotFound(req, res);
    const available = (['br', 'gzip'] as const).filter((coding) => variants.has(pathname + codingSuffix[coding]));
    const coding = req.headers.range === undefined ? negotiateEncoding(req.headers['accept-encoding'], available) : undefined;
    req.headers['accept-encoding'] = coding ?? 'identity';
    files(req, res, () => sendNotFound(req, res));
  };
}

/** The site paths of the build's precompressed variants (`/_astro/x.js.br`), by walking `root`. */
async function loadVariants(root: string): Promise<Set<string>> {
  const found = new Set<string>();
  const suffixes = new Set(Object.values(codingSuffix));
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (suffixes.has(path.extname(entry.name)) && existsSync(full.slice(0, -path.extname(entry.name).length))) {
        found.add(`/${path.relative(root, full).split(path.sep).join('/')}`);
      }
    }
  };
  await walk(root);
  return found;
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
