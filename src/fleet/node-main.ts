/**
 * `npm run runner:node`: one runner node (node.ts) and its preview endpoint (node-preview.ts).
 *   REDIS_URL                     the fleet's Redis (redis://host:port, rediss://…, redis+socket:///path)
 *   ASYNCLAB_FLEET_SECRET         shared with the gateways; guards the preview endpoint
 *   ASYNCLAB_NODE_PREVIEW_ADDR    where the preview endpoint listens (default 127.0.0.1:0)
 *   ASYNCLAB_NODE_PREVIEW_URL     how gateways reach it (default http://<that address>)
 *   ASYNCLAB_NODE_ID              the node's name in the fleet (default <hostname>-<random>)
 *   RUNNER_CONCURRENCY and the other RUNNER_* limits, as for `npm start`; RUNNER_UNSAFE=1 as there.
 * SIGTERM/SIGINT: drain (no new jobs; running runs finish within their wall limit), then exit 0.
 */
import { IsolationUnavailableError, Runner } from '../runner/runner.ts';
import { fleetSecretFromEnv } from './fleet-secret.ts';
import { RunnerNode } from './node.ts';
import { parseListenAddress, startNodePreviewServer } from './node-preview.ts';

function fail(message: string, code = 1): never {
  console.error(`runner node: ${message}`);
  process.exit(code);
}

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) fail('REDIS_URL is not set (e.g. redis://127.0.0.1:6379)', 2);
const secret = fleetSecretFromEnv();
if ('problem' in secret) fail(secret.problem, 2);
let listen: { host: string; port: number };
try {
  listen = parseListenAddress(process.env.ASYNCLAB_NODE_PREVIEW_ADDR);
} catch (err) {
  fail((err as Error).message, 2);
}
const nodeId = process.env.ASYNCLAB_NODE_ID;
if (nodeId !== undefined && !/^[A-Za-z0-9_-]{1,40}$/.test(nodeId)) fail('ASYNCLAB_NODE_ID must be 1–40 letters, digits, _ or -', 2);

// A signal during start-up (the runner and Redis can take seconds) ends the node as cleanly as a drain.
let closing = false;
let shutdown: (() => Promise<void>) | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    if (!shutdown) return; // still starting: each step below checks `closing`
    void shutdown().then(
      () => process.exit(0),
      (err: Error) => fail(`drain failed: ${err.message}`),
    );
  });
}

let runner: Runner;
try {
  runner = await Runner.start({ unsafe: process.env.RUNNER_UNSAFE === '1' });
} catch (err) {
  fail(err instanceof IsolationUnavailableError ? err.message : `the runner did not start: ${(err as Error).message}`);
}
if (runner.isolation === 'none') console.warn('WARNING: this node runs sandboxes WITHOUT isolation (RUNNER_UNSAFE=1).');

if (closing) {
  await runner.close();
  process.exit(0);
}
const preview = await startNodePreviewServer({ previews: runner.previews, secret: secret.secret, listen }).catch((err: Error) => fail(`the preview endpoint cannot listen on ${listen.host}:${listen.port}: ${err.message}`));
const previewUrl = process.env.ASYNCLAB_NODE_PREVIEW_URL || `http://${preview.address}`;

let node: RunnerNode;
try {
  node = await RunnerNode.start({ runner, redisUrl, previewUrl, ...(nodeId ? { id: nodeId } : {}) });
} catch (err) {
  await runner.close();
  fail(`cannot reach Redis at ${redisUrl}: ${(err as Error).message}`);
}
console.log(`runner node ${node.id}: previews at ${previewUrl}`);
shutdown = async () => {
  console.log(`runner node ${node.id}: draining (${node.running} run(s) going)`);
  await node.close();
  await preview.close();
  await runner.close();
  console.log(`runner node ${node.id}: drained`);
};
if (closing) await shutdown().then(() => process.exit(0));
