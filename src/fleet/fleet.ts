/**
 * `npm run fleet -- --nodes 3`: the hosted fleet on one machine, to try it. The private Redis
 * (redis-server.ts), one gateway and N runner nodes as child processes (launch.ts), and the site
 * served the way a static host serves it — plain files, on an origin of its own — with the
 * gateway on another origin. Ctrl-C (or SIGTERM) stops all of it, gateway first (its pages' runs
 * stop), then the nodes (they drain), then Redis; nothing is left running.
 *   --nodes N          runner nodes (default 3)
 *   --gateway-port P   the gateway's port (default 8787)
 *   --site-port P      the static site's port (default 4322)
 *   --build-dir DIR    where it builds its site (default dist-fleet/)
 *   --rebuild          build the site even if the one there is up to date
 *   --site-dir DIR     serve this prebuilt site instead, as it is (no build)
 * The page finds the gateway through PUBLIC_RUNNER_URL, baked in at build time; so the site is
 * built here (fleet-site.ts) with the gateway's own address whenever the one in --build-dir is
 * missing or was built for another, which is why the gateway's port is fixed before the build.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sirv from 'sirv';
import { buildFleetSite, defaultFleetSiteDir, siteState, type SiteBuild } from './fleet-site.ts';
import { startFleetChild, type FleetChild } from './launch.ts';
import { startFleetRedis, type FleetRedis } from './redis-server.ts';


let redis: FleetRedis | undefined;
const children: FleetChild[] = [];
let site: ReturnType<typeof createServer> | undefined;
let build: SiteBuild | undefined;
let stopping: Promise<void> | undefined;

/** Stops everything that was started, once, in order; never throws. */
function stopAll(): Promise<void> {
  stopping ??= stopInOrder();
  return stopping;
}

async function stopInOrder(): Promise<void> {
  build?.cancel();
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

/** A port number; 0 takes any free one (the tests do), reported once listening. */
async function port(text: string | undefined, fallback: number, name: string): Promise<number> {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) await fail(`${name} must be a port number, got ${JSON.stringify(text)}`, 2);
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
      'build-dir': { type: 'string' },
      rebuild: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (err) {
  await fail(`${(err as Error).message} (usage: npm run fleet -- --nodes 3 [--gateway-port 8787] [--site-port 4322] [--build-dir dist-fleet] [--rebuild] [--site-dir DIR])`, 2);
}
const nodeCount = Number(args!.nodes);
if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 16) await fail(`--nodes must be 1–16, got ${JSON.stringify(args!.nodes)}`, 2);
const gatewayPortWanted = await port(args!['gateway-port'], 8787, '--gateway-port');
const sitePortWanted = await port(args!['site-port'], 4322, '--site-port');
const prebuilt = args!['site-dir'] !== undefined;
if (prebuilt && (args!['build-dir'] !== undefined || args!.rebuild)) await fail('--site-dir serves a prebuilt site as it is: it goes with neither --build-dir nor --rebuild', 2);
const siteDir = path.resolve(prebuilt ? args!['site-dir']! : (args!['build-dir'] ?? defaultFleetSiteDir));
if (prebuilt && !existsSync(path.join(siteDir, 'index.html'))) {
  await fail(`no built site in ${siteDir}: leave out --site-dir and npm run fleet builds one into dist-fleet/`, 2);
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

/** Whether a port on 127.0.0.1 is free now (checked before a build, not after a minute of it). */
function portFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

if (!prebuilt) {
  if (gatewayPortWanted === 0) await fail('--gateway-port 0 cannot be used to build the site: its pages name the gateway\'s port (pass one, or --site-dir with a prebuilt site)', 2);
  for (const [p, flag] of [[gatewayPortWanted, '--gateway-port'], [sitePortWanted, '--site-port']] as const) {
    if (p !== 0 && !(await portFree(p))) await fail(`port ${p} is in use: pass ${flag}`, 1);
  }
  const runnerUrl = `ws://127.0.0.1:${gatewayPortWanted}/__runner`;
  const state = siteState(siteDir, runnerUrl);
  const shown = path.relative(process.cwd(), siteDir) || '.';
  if (state.ready && !args!.rebuild) {
    console.log(`fleet: the site in ${shown} is built for ${runnerUrl} (--rebuild builds it again)`);
  } else {
    console.log(`fleet: building the site for ${runnerUrl} into ${shown} (${state.ready ? '--rebuild' : state.why}); a minute or two…`);
    const started = Date.now();
    build = buildFleetSite(siteDir, runnerUrl, (step, line) => console.log(`[build ${step}] ${line}`));
    try {
      await build.done;
    } catch (err) {
      await fail(`the site could not be built: ${(err as Error).message}`);
    }
    build = undefined;
    console.log(`fleet: site built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
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
  site!.once('error', (err: NodeJS.ErrnoException) => void fail(err.code === 'EADDRINUSE' ? `port ${sitePortWanted} is in use: pass --site-port` : `the site server failed: ${err.message}`));
  site!.listen(sitePortWanted, '127.0.0.1', () => resolve());
});
const sitePort = (site.address() as AddressInfo).port;
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
  PORT: String(gatewayPortWanted),
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
let gatewayPort = gatewayPortWanted;
try {
  const ready = await Promise.all(children.map((c) => c.ready));
  gatewayPort = Number(ready.at(-1)![2]);
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
${prebuilt ? `The site reaches the gateway if it was built with PUBLIC_RUNNER_URL=ws://127.0.0.1:${gatewayPort}/__runner.` : 'Its pages run their sandboxes on this gateway.'}
Ctrl-C stops everything.`);
