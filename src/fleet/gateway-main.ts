/**
 * `npm run gateway`: one gateway (gateway.ts).
 *   REDIS_URL                  the fleet's Redis (redis://host:port, rediss://…, redis+socket:///path)
 *   ASYNCLAB_PUBLIC_ORIGINS    the site origins allowed to run sandboxes and open previews (comma-separated)
 *   ASYNCLAB_FLEET_SECRET      shared with the nodes (their preview endpoints)
 *   PORT (default 8787), HOST (default 0.0.0.0: a gateway is public, behind a TLS-terminating proxy)
 *   RUNNER_* limits the page is told about before a node has reported its own (as for `npm start`)
 * SIGTERM/SIGINT: every connection is closed with code 4000 ("reconnect"), then exit 0.
 */
import { fleetSecretFromEnv } from './fleet-secret.ts';
import { Gateway } from './gateway.ts';
import { parseOrigins } from './origins.ts';

function fail(message: string, code = 1): never {
  console.error(`gateway: ${message}`);
  process.exit(code);
}

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) fail('REDIS_URL is not set (e.g. redis://127.0.0.1:6379)', 2);
const secret = fleetSecretFromEnv();
if ('problem' in secret) fail(secret.problem, 2);
let origins: Set<string>;
try {
  origins = parseOrigins(process.env.ASYNCLAB_PUBLIC_ORIGINS);
} catch (err) {
  fail((err as Error).message, 2);
}
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number (0–65535), got "${process.env.PORT}"`, 2);
const host = process.env.HOST ?? '0.0.0.0';

let gateway: Gateway;
try {
  gateway = await Gateway.start({ redisUrl, origins, secret: secret.secret });
} catch (err) {
  fail(`cannot reach Redis at ${redisUrl}: ${(err as Error).message}`);
}
gateway.server.on('error', (err: NodeJS.ErrnoException) => fail(err.code === 'EADDRINUSE' ? `port ${port} is in use: set PORT to another one` : err.message));
gateway.server.listen(port, host, () => {
  const address = gateway.server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`gateway ${gateway.id}: listening on ${host}:${actual} for ${[...origins].join(', ')}`);
});

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    void gateway
      .close()
      .then(() => process.exit(0))
      .catch((err: Error) => fail(`shutdown failed: ${err.message}`));
  });
}
