/**
 * A plain static file server for the built site, as any static host would serve `dist/`:
 * no runner, no token in the pages and — unlike `npm start` — no cross-origin isolation
 * headers unless STATIC_ISOLATION=1 (hosts that read public/_headers send them).
 */
import { createServer } from 'node:http';
import path from 'node:path';
import sirv from 'sirv';

const root = path.resolve(import.meta.dirname, '..', '..', '..', 'dist');
const port = Number(process.env.PORT ?? 4398);
const isolate = process.env.STATIC_ISOLATION === '1';
// Like nginx's `brotli_static`/`gzip_static` (README, Compression): the build's .br/.gz are sent where accepted.
const files = sirv(root, { dev: false, etag: true, extensions: ['html'], brotli: true, gzip: true });

createServer((req, res) => {
  if (isolate) {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  }
  files(req, res, () => {
    res.statusCode = 404;
    res.end('not found');
  });
}).listen(port, '127.0.0.1', () => console.log(`static site on http://127.0.0.1:${port}/ (${isolate ? 'isolated' : 'plain'})`));
