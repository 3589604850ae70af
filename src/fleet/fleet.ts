/**
 * `npm run fleet -- --nodes 3`: the hosted fleet on one machine, to try it. The private Redis
 * (redis-server.ts), one gateway and N runner nodes as child processes (launch.ts), and the built
 * site (dist/) served the way a static host serves it — plain files, on an origin of its own —
 * with the gateway on another origin. Ctrl-C (or SIGTERM) stops all of it, gateway first (its
 * pages' runs stop), then the nodes (they drain), then Redis; nothing is left running.
 *   --nodes N          runner nodes (default 3)
 *   --gateway-port P   the gateway's port (default 8787)
 *   --site-port P      the static site's port (default 4322)
 *   --site-dir DIR     what to serve (default dist/)
 * The page finds the gateway through PUBLIC_RUNNER_URL, baked in at build time:
 *   PUBLIC_RUNNER_URL=ws://127.0.0.1:8787/__runner npm run build
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sirv from 'sirv';
import { startFleetChild, type FleetChild } from './launch.ts';
import { startFleetRedis, type FleetRedis } from './redis-server.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let redis: FleetRedis | undefined;
const children: FleetChild[] = [];
let site: ReturnType<typeof createServer> | undefined;
let stopping: Promise<void> | undefined;

/** Stops everything that was started, once, in order; never throws. */
function stopAll(): Promise<void> {
  stopping ??= stopInOrder();
  return stopping;
}

async function stopInOrder(): Promise<void> {
  const gateways = children.filter((c) => c.role === 'gateway');
  const nodes = children.filter((c) => c.role === 'node');
  await Promise.all(gateways.map((c) => c.stop('SIGTERM', 10_000)));
  // A node drains: its running runs (already told to stop by the gateway) end, then it exits.
  await Promise.all(nodes.map((c) => c.stop('SIGTERM', 30_000)));
  await redis?.close().catch(() => undefined);
  site?.closeAllConnections();
  site?.close();
}

/** Every failure ends here: one line saying why, everything stopped, a non-zero exit. */
async function fail(why: string, code = 1): Promise<never> {
  // A process that ends because Ctrl-C is stopping the fleet is not a failure.
  if (stopping) return new Promise<never>(() => undefined);
  console.error(`fleet: ${why}`);
  await stopAll();
  process.exit(code);
}

function port(text: string | undefined, fallback: number, name: string): number {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535) void fail(`${name} must be a port number, got ${JSON.stringify(text)}`, 2);
  return value;
}

let args;
try {
  args = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      'gateway-port': { type: 'string' },
      'site-port': { type: 'string' },
      'site-dir': { type: 'string' },
    },
    strict: true,
  }).values;
} catch (err) {
  await fail(`${(err as Error).message} (usage: npm run fleet -- --nodes 3 [--gateway-port 8787] [--site-port 4322] [--site-dir dist])`, 2);
}
const nodeCount = Number(args!.nodes);
if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 16) await fail(`--nodes must be 1–16, got ${JSON.stringify(args!.nodes)}`, 2);
const gatewayPort = port(args!['gateway-port'], 8787, '--gateway-port');
const sitePort = port(args!['site-port'], 4322, '--site-port');
const siteDir = path.resolve(args!['site-dir'] ?? path.join(projectRoot, 'dist'));
if (!existsSync(path.join(siteDir, 'index.html'))) {
  await fail(`no built site in ${siteDir}: run PUBLIC_RUNNER_URL=ws://127.0.0.1:${gatewayPort}/__runner npm run build first`, 2);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    console.log('fleet: stopping (gateway, then nodes, then Redis)…');
    void stopAll().then(() => {
      console.log('fleet: stopped');
      process.exit(0);
    });
  });
}

// The static host: files as they are on disk (and their .br/.gz), nothing computed per page.
const files = sirv(siteDir, { dev: false, etag: true, brotli: true, gzip: true });
site = createServer((req, res) =>
  files(req, res, () => {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Not found\n');
  }),
);
await new Promise<void>((resolve) => {
  site!.once('error', (err: NodeJS.ErrnoException) => void fail(err.code === 'EADDRINUSE' ? `port ${sitePort} is in use: pass --site-port` : `the site server failed: ${err.message}`));
  site!.listen(sitePort, '127.0.0.1', () => resolve());
});
const siteOrigins = [`http://127.0.0.1:${sitePort}`, `http://localhost:${sitePort}`];

try {
  redis = await startFleetRedis();
} catch (err) {
  await fail((err as Error).message);
}
const env: NodeJS.ProcessEnv = {
  ...process.env,
  REDIS_URL: redis!.url,
  ASYNCLAB_FLEET_SECRET: randomBytes(32).toString('base64url'),
  ASYNCLAB_PUBLIC_ORIGINS: siteOrigins.join(','),
  PORT: String(gatewayPort),
  HOST: '127.0.0.1',
};
const print = (label: string, line: string) => console.log(`[${label}] ${line}`);
for (let i = 1; i <= nodeCount; i++) children.push(startFleetChild('node', { ...env, ASYNCLAB_NODE_ID: `node-${i}` }, { label: `node-${i}`, onLine: print }));
children.push(startFleetChild('gateway', env, { label: 'gateway', onLine: print }));
// Any process that ends while the fleet runs ends the fleet, with its reason.
for (const child of children) {
  void child.exited.then(({ code, signal }) => {
    if (!stopping) void fail(`${child.label} exited (${signal ?? `code ${code}`}): ${child.lastLines.at(-1) ?? 'no output'}`);
  });
}
try {
  await Promise.all(children.map((c) => c.ready));
} catch (err) {
  await fail((err as Error).message);
}
// Ready when the gateway says so (Redis reachable, the nodes' first heartbeats seen).
for (let i = 0; i < 50; i++) {
  const ready = await fetch(`http://127.0.0.1:${gatewayPort}/readyz`).then((r) => r.ok, () => false);
  if (ready) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
console.log(`
fleet: ${nodeCount} node(s), one gateway, Redis on ${redis!.socket}
  site:     http://127.0.0.1:${sitePort}/  (served as a static host would, from ${path.relative(process.cwd(), siteDir) || '.'})
  gateway:  ws://127.0.0.1:${gatewayPort}/__runner  (GET /healthz, /readyz; origins ${siteOrigins.join(', ')})
The site reaches the gateway if it was built with PUBLIC_RUNNER_URL=ws://127.0.0.1:${gatewayPort}/__runner.
Ctrl-C stops everything.`);
