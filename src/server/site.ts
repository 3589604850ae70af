import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import path from 'node:path';
import sirv from 'sirv';
import { isolationHeaders } from './headers.ts';
import { locales } from '../i18n/locales.ts';

export interface SiteOptions {
  /** The built site (`dist/`). */
  root: string;
  /** Markup inserted before `</head>` of every page (the runner's token meta tag). */
  headHtml?: string;
}

/**
 * Serves the built site: pages from memory (with `headHtml` added), other files from
 * disk via sirv; cross-origin isolation headers on every response, long caching for
 * Astro's hashed assets, and a 404 page in the language of the missing URL.
 */
export async function createSiteHandler({ root, headHtml = '' }: SiteOptions): Promise<RequestListener> {
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

  return (req, res) => {
    for (const [name, value] of Object.entries(isolationHeaders)) res.setHeader(name, value);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://site').pathname);
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
