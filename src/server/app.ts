/**
 * The server `npm start` runs, put together in one place so tests run exactly it: the guard
 * (guard.ts) around every request, live-preview requests to the runner first, the site for the
 * rest (answering only to a loopback Host), and the runner's WebSocket when a runner is given.
 */
import { createServer, type Server } from 'node:http';
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

export async function createApp({ root, headHtml, runner, token, log, warn }: AppOptions): Promise<App> {
  let server: Server | undefined;
  const port = () => (server!.address() as AddressInfo).port;
  const site = await createSiteHandler({ root, ...(headHtml === undefined ? {} : { headHtml }), port });
  let mounted: MountedRunner | undefined;
  server = createServer((req, res) => {
    if (mounted?.handleRequest(req, res)) return;
    site(req, res);
  });
  guardServer(server, log ? { log } : {});
  mounted = runner ? mountRunner(server, { runner, token, ...(warn ? { log: warn } : {}) }) : undefined;
  return { server, mounted };
}
