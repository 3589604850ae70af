/**
 * The server `npm start` runs, put together in one place so tests run exactly it: the guard
 * (guard.ts) around every request, live-preview requests to the runner first, the site for the
 * rest (answering only to a loopback Host), and the runner's WebSocket when a runner is given.
 */
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runner } from '../runner/runner.ts';
import { mountRunner, type MountedRunner } from '../runner/ws.ts';
import { guardServer, type Log } from './guard.ts';
import { createSiteHandler } from './site.ts';

export interface AppOptions {
  /** The built site. */
  root: string;
  headHtml?: string;
  runner?: Runner | undefined;
  token: string;
  /** Unexpected errors (the guard). Default: console.error. */
  log?: Log;
  /** Refused upgrades and preview requests. Default: console.warn. */
  warn?: Log;
}

export interface App {
  server: Server;
  mounted: MountedRunner | undefined;
}

/**
 * How long a client may take, so a slow or silent one cannot hold a socket (and a file
 * descriptor) forever: its request headers within 10 s, its whole request within 30 s, and
 * an idle kept-alive connection closes after 5 s. Node checks these every 2 s, so a socket
 * that breaks them is closed within 12 s. Upgraded sockets (the runner's WebSockets) are
 * the WebSocket layer's: ws.ts caps their number and drops silent ones by heartbeat.
 */
export const httpServerOptions = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 2_000,
} as const satisfies ServerOptions;

/**
 * Open sockets of every kind, WebSockets included; beyond this a new connection is closed as
 * soon as it is accepted. Far above what the pages of one reader need (a page holds one
 * runner connection and the browser at most 6 more per origin) and far below the process's
 * file-descriptor limit, so no flood of connections leaves the runs without descriptors.
 */
export const maxHttpConnections = 512;

export async function createApp({ root, headHtml, runner, token, log, warn }: AppOptions): Promise<App> {
  let server: Server | undefined;
  const port = () => (server!.address() as AddressInfo).port;
  const site = await createSiteHandler({ root, ...(headHtml === undefined ? {} : { headHtml }), port });
  let mounted: MountedRunner | undefined;
  server = createServer(httpServerOptions, (req, res) => {
    if (mounted?.handleRequest(req, res)) return;
    site(req, res);
  });
  server.maxConnections = maxHttpConnections;
  guardServer(server, log ? { log } : {});
  mounted = runner ? mountRunner(server, { runner, token, ...(warn ? { log: warn } : {}) }) : undefined;
  return { server, mounted };
}
