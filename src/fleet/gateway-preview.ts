/**
 * The gateway's half of live previews: `/__runner/preview/<capability>/…` from an allowed page is
 * looked up in Redis (the node that runs it advertised it under keys.preview) and passed to that
 * node's preview endpoint with the fleet secret, as plain HTTP or as a WebSocket tunnel. The node
 * applies the preview proxy's checks and limits (node-preview.ts); the gateway adds what a
 * cross-origin page needs (CORS for allowed origins) and refuses everything else before any work.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import { rawHead } from '../runner/preview/headers.ts';
import { isPreviewRequest, parseTarget } from '../runner/preview/target.ts';
import { answerAndClose } from '../runner/raw-answer.ts';
import { keys, type PreviewRoute } from './contract.ts';
import { fleetSecretHeader } from './fleet-secret.ts';
import { checkOrigin, corsHeaders, preflightHeaders } from './origins.ts';

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
/** From the node's answer head to the app's first byte, as the node's own proxy allows, plus a margin. */
const headTimeoutMs = 35_000;

export interface GatewayPreviewOptions {
  redis: Redis;
  secret: string;
  origins: ReadonlySet<string>;
  log: (line: string) => void;
}

export interface GatewayPreview {
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

type Found = { ok: true; url: URL; origin: string } | { ok: false; status: number; why: string; origin?: string };

export function createGatewayPreview({ redis, secret, origins, log }: GatewayPreviewOptions): GatewayPreview {
  const find = async (req: IncomingMessage): Promise<Found> => {
    const origin = checkOrigin(req, origins);
    if (!origin.ok) return { ok: false, status: 403, why: origin.why };
    const target = parseTarget(req.url ?? '');
    if (!target.ok) return { ok: false, status: target.status, why: target.why, origin: origin.origin };
    let route: PreviewRoute | undefined;
    try {
      const raw = await redis.get(keys.preview(target.capability));
      route = raw ? (JSON.parse(raw) as PreviewRoute) : undefined;
    } catch {
      return { ok: false, status: 503, why: 'the fleet is unreachable', origin: origin.origin };
    }
    if (!route || typeof route.url !== 'string') return { ok: false, status: 404, why: 'no such preview (or its run has ended)', origin: origin.origin };
    let url: URL;
    try {
      url = new URL(route.url);
    } catch {
      return { ok: false, status: 502, why: 'the preview\'s node is misconfigured', origin: origin.origin };
    }
    return { ok: true, url, origin: origin.origin };
  };

  /** The page's request headers for the node: its own, minus hop-by-hop ones and any fleet header it forged. */
  const forwardHeaders = (req: IncomingMessage): OutgoingHttpHeaders => {
    const out: OutgoingHttpHeaders = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      if (hopByHop.has(name) || name === fleetSecretHeader) continue;
      const existing = out[name];
      out[name] = existing === undefined ? req.rawHeaders[i + 1]! : ([] as string[]).concat(existing as string | string[], req.rawHeaders[i + 1]!);
    }
    out[fleetSecretHeader] = secret;
    return out;
  };

  const refuseHttp = (res: ServerResponse, status: number, why: string, origin?: string) => {
    if (res.headersSent) return void res.destroy();
    const body = `${why}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...(origin ? corsHeaders(origin) : {}) });
    res.end(body);
  };

  return {
    handleRequest(req, res) {
      if (!isPreviewRequest(req.url)) return false;
      void (async () => {
        // A preflight carries no credentials and does no work: answered here for allowed origins only.
        if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
          const origin = checkOrigin(req, origins);
          if (!origin.ok) return refuseHttp(res, 403, origin.why);
          res.writeHead(204, preflightHeaders(origin.origin, req));
          return void res.end();
        }
        const found = await find(req);
        if (!found.ok) {
          if (found.status === 403) log(`gateway: refused a preview request: ${found.why}`);
          return refuseHttp(res, found.status, found.why, found.origin);
        }
        const upstream = httpRequest({
          protocol: 'http:',
          hostname: found.url.hostname.replace(/^\[|\]$/g, ''),
          port: found.url.port || 80,
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req),
          agent: false,
        });
        const timer = setTimeout(() => upstream.destroy(new Error('timeout')), headTimeoutMs);
        upstream.once('response', (answer) => {
          clearTimeout(timer);
          const headers: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value !== undefined && !hopByHop.has(name) && !name.startsWith('access-control-')) headers[name] = value;
          }
          res.writeHead(answer.statusCode ?? 502, { ...headers, ...corsHeaders(found.origin) });
          res.flushHeaders();
          answer.pipe(res);
          answer.once('close', () => {
            if (!answer.complete) res.destroy();
          });
        });
        upstream.once('error', (err) => {
          clearTimeout(timer);
          refuseHttp(res, err.message === 'timeout' ? 504 : 502, 'the preview\'s node did not answer', found.origin);
        });
        res.once('close', () => {
          if (!res.writableFinished) upstream.destroy();
        });
        req.pipe(upstream);
      })().catch((err: Error) => {
        log(`gateway: preview request failed: ${err.message}`);
        refuseHttp(res, 502, 'the preview request failed');
      });
      return true;
    },

    handleUpgrade(req, socket, head) {
      if (!isPreviewRequest(req.url)) return false;
      socket.on('error', () => socket.destroy());
      void (async () => {
        const found = await find(req);
        if (!found.ok) {
          if (found.status === 403) log(`gateway: refused a preview WebSocket: ${found.why}`);
          const body = `${found.why}\n`;
          return answerAndClose(socket, rawHead(found.status, '', { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }) + body);
        }
        if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
          return answerAndClose(socket, rawHead(400, 'Bad Request', { 'Content-Length': 0, Connection: 'close' }));
        }
        const headers = { ...forwardHeaders(req), connection: 'Upgrade', upgrade: 'websocket' };
        const upstream = httpRequest({
          protocol: 'http:',
          hostname: found.url.hostname.replace(/^\[|\]$/g, ''),
          port: found.url.port || 80,
          method: 'GET',
          path: req.url,
          headers,
          agent: false,
        });
        const timer = setTimeout(() => upstream.destroy(new Error('timeout')), headTimeoutMs);
        socket.once('close', () => upstream.destroy());
        upstream.once('upgrade', (answer, nodeSocket, nodeHead) => {
          clearTimeout(timer);
          nodeSocket.on('error', () => socket.destroy());
          const answerHeaders: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined) answerHeaders[name] = value;
          socket.write(rawHead(101, 'Switching Protocols', answerHeaders));
          if (nodeHead.length) socket.write(nodeHead);
          if (head.length) nodeSocket.write(head);
          nodeSocket.pipe(socket);
          socket.pipe(nodeSocket);
          nodeSocket.once('close', () => socket.destroy());
          socket.once('close', () => nodeSocket.destroy());
        });
        // The node (or the app behind it) answered without upgrading: that answer goes to the page as is.
        upstream.once('response', (answer) => {
          clearTimeout(timer);
          const chunks: Buffer[] = [];
          let size = 0;
          answer.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= 64 * 1024) chunks.push(chunk);
          });
          answer.once('end', () => {
            const body = Buffer.concat(chunks);
            const answerHeaders: Record<string, string | string[] | number> = {};
            for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !hopByHop.has(name) && name !== 'content-length') answerHeaders[name] = value;
            answerAndClose(socket, Buffer.concat([Buffer.from(rawHead(answer.statusCode ?? 502, answer.statusMessage ?? '', { ...answerHeaders, 'Content-Length': body.length, Connection: 'close' })), body]));
          });
          answer.once('error', () => socket.destroy());
        });
        upstream.once('error', () => {
          clearTimeout(timer);
          answerAndClose(socket, rawHead(502, 'Bad Gateway', { 'Content-Length': 0, Connection: 'close' }));
        });
        upstream.end();
      })().catch(() => socket.destroy());
      return true;
    },
  };
}
