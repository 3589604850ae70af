/**
 * `npm start` / `npm run serve`: serves the built site on loopback. Later the local
 * runner mounts here too, on the same origin (DESIGN §5).
 *   PORT (default 4321), HOST (default 127.0.0.1), SITE_DIR (default dist/).
 */
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSiteHandler } from './site.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const port = Number(process.env.PORT ?? 4321);
const host = process.env.HOST ?? '127.0.0.1';
const root = path.resolve(process.env.SITE_DIR ?? path.join(projectRoot, 'dist'));

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number (0–65535), got "${process.env.PORT}".`);
  process.exit(2);
}

let handler;
try {
  handler = createSiteHandler({ root });
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

const server = createServer(handler);
server.on('error', (err: NodeJS.ErrnoException) => {
  console.error(err.code === 'EADDRINUSE' ? `Port ${port} is in use: set PORT to another one.` : err.message);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`AsyncLab is serving ${path.relative(process.cwd(), root) || '.'} at http://${host}:${actual}/`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
