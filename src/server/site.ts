import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import path from 'node:path';
import sirv from 'sirv';
import { isolationHeaders } from './headers.ts';
import { locales } from '../i18n/locales.ts';

export interface SiteOptions {
  /** The built site (`dist/`). */
  root: string;
}

/**
 * Serves the built site: static files with cross-origin isolation headers on every
 * response, long caching for Astro's hashed assets, and a 404 page in the language
 * of the missing URL (`/zh/…` gets the Chinese one).
 */
export function createSiteHandler({ root }: SiteOptions): RequestListener {
  if (!existsSync(path.join(root, 'index.html'))) {
    throw new Error(`No built site in ${root}: run \`npm run build\` first (npm start does it for you).`);
  }
  const notFoundPages = new Map<string, Promise<Buffer>>();
  const notFoundPage = (lang: string | undefined): Promise<Buffer> => {
    const file = lang ? path.join(root, lang, '404.html') : path.join(root, '404.html');
    let page = notFoundPages.get(file);
    if (!page) notFoundPages.set(file, (page = readFile(file)));
    return page;
  };

  const sendNotFound = async (req: IncomingMessage, res: ServerResponse) => {
    const first = (req.url ?? '/').split('/')[1];
    const lang = locales.find((l) => l === first);
    const body = await notFoundPage(lang);
    res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const files = sirv(root, {
    dev: false,
    etag: true,
    extensions: ['html'],
    setHeaders(res, pathname) {
      // Astro fingerprints everything under /_astro/, so it never changes at a given URL.
      res.setHeader('Cache-Control', pathname.startsWith('/_astro/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
    onNoMatch: (req, res) => void sendNotFound(req, res),
  });

  return (req, res) => {
    for (const [name, value] of Object.entries(isolationHeaders)) res.setHeader(name, value);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    files(req, res, () => void sendNotFound(req, res));
  };
}
