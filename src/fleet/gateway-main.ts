/**
 * `npm run gateway`: one gateway (gateway.ts).
 *   REDIS_URL                  the fleet's Redis (redis://host:port, rediss://…, redis+socket:///path)
 *   ASYNCLAB_PUBLIC_ORIGINS    the site origins allowed to run sandboxes and open previews (comma-separated)
 *   ASYNCLAB_FLEET_SECRET      shared with the nodes (their preview endpoints)
 *   PORT (default 8787), HOST (default 0.0.0.0: a gateway is public, behind a TLS-terminating proxy)
 *   RUNNER_* limits the page is told about before a node has reported its own (as for `npm start`)
 *   The public gate (gateway-gate.ts): ASYNCLAB_TRUSTED_PROXIES (load balancers whose X-Forwarded-For
 *   is believed), ASYNCLAB_RUNS_PER_CLIENT (2), ASYNCLAB_RUNS_PER_MINUTE (20),
 *   ASYNCLAB_CONNECTIONS_PER_CLIENT (4), ASYNCLAB_QUEUE_MAX (200), ASYNCLAB_CLIENT_SALT (optional)
 *   ASYNCLAB_GATEWAY_MAX_CONNECTIONS   open sockets at most, of all clients together (default 4096)
 * SIGTERM/SIGINT: every connection is closed with code 4000 ("reconnect"), then exit 0.
 */
import { randomBytes } from 'node:crypto';
import { fleetSecretFromEnv } from './fleet-secret.ts';
import { Gateway, gatewayMaxConnections } from './gateway.ts';
import { createGatewayGate, type GatewayGate } from './gateway-gate.ts';
import { parsePublicOrigins } from './origins.ts';

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
  origins = new Set(parsePublicOrigins(process.env.ASYNCLAB_PUBLIC_ORIGINS));
} catch (err) {
  fail((err as Error).message, 2);
}
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number (0–65535), got "${process.env.PORT}"`, 2);
const host = process.env.HOST ?? '0.0.0.0';
const maxConnections = Number(process.env.ASYNCLAB_GATEWAY_MAX_CONNECTIONS ?? gatewayMaxConnections);
if (!Number.isInteger(maxConnections) || maxConnections < 1) fail(`ASYNCLAB_GATEWAY_MAX_CONNECTIONS must be a positive whole number, got "${process.env.ASYNCLAB_GATEWAY_MAX_CONNECTIONS}"`, 2);

const id = randomBytes(6).toString('base64url');
let gate: GatewayGate;
try {
  gate = await createGatewayGate({ redisUrl, gatewayId: id });
} catch (err) {
  const message = (err as Error).message;
  fail(message.startsWith('ASYNCLAB_') ? message : `cannot reach Redis at ${redisUrl}: ${message}`, message.startsWith('ASYNCLAB_') ? 2 : 1);
}
let gateway: Gateway;
try {
  gateway = await Gateway.start({ redisUrl, origins, secret: secret.secret, id, hooks: gate.hooks, maxConnections });
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
      .then(() => gate.close())
      .then(() => process.exit(0))
      .catch((err: Error) => fail(`shutdown failed: ${err.message}`));
  });
}
