/**
 * A node's preview endpoint: the live previews of this node's runs, for the fleet's gateways only.
 *
 * It is the embedded runner's own preview proxy (runner/preview/proxy.ts) with all its limits and
 * checks on what crosses it, behind a different door: instead of the page's loopback Host, Origin
 * and per-process token (the gateway checked the page's Origin, and the capability names the
 * run), a request must carry the fleet secret. Once it does, the request is presented to the
 * proxy as the proxy's own gate expects it (Host, Origin and token of this process), so that gate
 * is passed by the node itself and not by anything the request says.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { newToken, previewTokenHeader } from '../runner/gate.ts';
import { createPreviewProxy } from '../runner/preview/proxy.ts';
import type { PreviewRegistry } from '../runner/preview/registry.ts';
import { previewTokenParam } from '../runner/preview/target.ts';
import { answerAndClose, statusOnly } from '../runner/raw-answer.ts';
import { httpServerOptions } from '../server/app.ts';
import { fleetSecretHeader, secretMatches } from './fleet-secret.ts';
import { answerClientError } from './client-error.ts';

/** Far above what gateways need (16 proxied connections per run, a pool of a few runs). */
export const nodePreviewMaxConnections = 1024;

export interface NodePreviewServer {
  readonly server: Server;
  /** The address it listens on, as host:port. */
  readonly address: string;
  close(): Promise<void>;
}

/** Parses ASYNCLAB_NODE_PREVIEW_ADDR (`host:port`, `[v6]:port`; default 127.0.0.1:0, any free port). */
export function parseListenAddress(text: string | undefined): { host: string; port: number } {
  const value = text?.trim() || '127.0.0.1:0';
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`ASYNCLAB_NODE_PREVIEW_ADDR must be host:port (e.g. 10.0.0.5:7070), got ${JSON.stringify(value.slice(0, 80))}`);
  return { host: m[1] ?? m[2]!, port };
}

export async function startNodePreviewServer(opts: { previews: PreviewRegistry; secret: string; listen: { host: string; port: number }; log?: (line: string) => void }): Promise<NodePreviewServer> {
  const log = opts.log ?? console.warn;
  const innerToken = newToken();
  // npm start's timeouts, checked every 2 s, and a cap on open sockets: only gateways should
  // connect here, but the endpoint must not depend on that to stay up.
  const server = createServer({ ...httpServerOptions, maxHeaderSize: 16 * 1024 });
  server.maxConnections = nodePreviewMaxConnections;
  const port = () => (server.address() as AddressInfo).port;
  const proxy = createPreviewProxy({ previews: opts.previews, token: innerToken, port, log });

  /** Whether the request is a gateway's; if so, dresses it for the proxy's gate. */
  const admit = (req: IncomingMessage, websocket: boolean): boolean => {
    if (!secretMatches(req.headers[fleetSecretHeader], opts.secret)) return false;
    const self = `127.0.0.1:${port()}`;
    req.headers.host = self;
    if (websocket || req.headers.origin !== undefined) req.headers.origin = `http://${self}`;
    delete req.headers['sec-fetch-site'];
    if (websocket) {
      // The proxy takes the first token parameter it finds and strips them all before the app sees the URL.
      const url = req.url ?? '';
      const q = url.indexOf('?');
      req.url = q < 0 ? `${url}?${previewTokenParam}=${innerToken}` : `${url.slice(0, q)}?${previewTokenParam}=${innerToken}&${url.slice(q + 1)}`;
    } else {
      req.headers[previewTokenHeader] = innerToken;
    }
    return true;
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!admit(req, false)) {
      res.writeHead(403, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('the fleet secret is missing or wrong\n');
      return;
    }
    if (!proxy.handleRequest(req, res)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not a preview\n');
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!admit(req, true)) return answerAndClose(socket, statusOnly(403, 'Forbidden'));
    if (!proxy.handleUpgrade(req, socket, head)) answerAndClose(socket, statusOnly(404, 'Not Found'));
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => answerAndClose(socket, statusOnly(405, 'Method Not Allowed')));
  server.on('clientError', answerClientError);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    address: address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
