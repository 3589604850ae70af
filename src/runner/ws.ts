/**
 * Mounts the runner on a Node HTTP server at `/__runner` (WebSocket), behind the gate.
 * One connection may hold several runs; closing it stops them all. Protocol: protocol.ts.
 * Live previews are reached under `/__runner/preview/` (preview/proxy.ts): upgrades are
 * handled here, plain requests by `handleRequest`, which the server calls first.
 * Capacity is shared fairly (limits.ts): at most `connections` connections are open (503
 * beyond; silent ones are dropped by heartbeat), each with at most `runsPerConnection` runs
 * going, of which `queuePerConnection` waiting; waiting runs are served round-robin between
 * connections (pool.ts), so one page's backlog cannot hold up another's run.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkUpgrade } from './gate.ts';
import { answerAndClose, statusOnly } from './raw-answer.ts';
import { clientMessage, protocolVersion, type ServerMessage } from '../protocol/messages.ts';
import { reason } from '../protocol/reasons.ts';
import type { Runner, RunHandle } from './runner.ts';
import { createPreviewProxy } from './preview/proxy.ts';

export const runnerPath = '/__runner';

/**
 * How often each connection is pinged; one that has not answered the previous ping by the
 * next is dropped (browsers answer pings by themselves), so a vanished client does not keep
 * one of the limited connections, and its runs, forever.
 */
const defaultHeartbeatMs = 30_000;

export interface MountOptions {
  runner: Runner;
  token: string;
  /** Logs refused upgrades (default: console.warn). */
  log?: (message: string) => void;
  /**
   * Upgrades another listener on the same server answers (Vite's HMR in dev), left alone here.
   * Every other upgrade that is not the runner's or a preview's is answered 404 and closed.
   */
  leaveUpgrade?: (req: IncomingMessage) => boolean;
  /** Ping interval (default 30 s; tests shorten it). */
  heartbeatMs?: number;
}

export interface MountedRunner {
  /** Answers a live-preview request (true), or leaves it to the site (false). Call it first for every request. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** Stops every run of every connection and closes the sockets. */
  close(): Promise<void>;
}

export function mountRunner(server: Server, { runner, token, log = console.warn, leaveUpgrade = () => false, heartbeatMs = defaultHeartbeatMs }: MountOptions): MountedRunner {
  const wss = new WebSocketServer({ noServer: true, maxPayload: runner.limits.messageBytes });
  // Handshakes under way count too: they become connections a moment later.
  let handshaking = 0;
  const port = () => (server.address() as AddressInfo).port;
  const preview = createPreviewProxy({ previews: runner.previews, token, port, log });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (preview.handleUpgrade(req, socket, head)) return;
    if (leaveUpgrade(req)) return;
    // Not parsed with URL: `//host/…` or a malformed target must be a 404 here, not an exception.
    const target = req.url ?? '';
    const pathname = target.split('?', 1)[0];
    if (pathname !== runnerPath) {
      // Nobody else answers it: left alone, the socket would stay open for as long as the client likes.
      answerAndClose(socket, statusOnly(404, 'Not Found'));
      return;
    }
    const gate = checkUpgrade(req, { port: port(), token });
    if (!gate.ok) {
      log(`runner: refused a connection: ${gate.why}`);
      answerAndClose(socket, statusOnly(gate.status, gate.status === 401 ? 'Unauthorized' : 'Forbidden'));
      return;
    }
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      answerAndClose(socket, statusOnly(400, 'Bad Request'));
      return;
    }
    // Per connection, not per page or per client: the gate admits only this machine's pages
    // (loopback, same origin, the per-process token), which the server cannot tell apart any
    // further, and a page holds one connection (runner-client.ts). Each connection's runs
    // are capped (serveConnection); this caps how many connections hold them.
    if (wss.clients.size + handshaking >= runner.limits.connections) {
      log(`runner: refused a connection: ${runner.limits.connections} connections are open, the most allowed`);
      answerAndClose(socket, `HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    handshaking += 1;
    let counted = true;
    const settle = () => {
      if (counted) handshaking -= 1;
      counted = false;
    };
    socket.once('close', settle);
    // ws answers a malformed handshake (bad key, version) with a 400 and closes the socket itself.
    wss.handleUpgrade(req, socket, head, (ws) => {
      settle();
      serveConnection(ws, runner);
    });
  };
  const heartbeat = setInterval(() => {
    for (const client of wss.clients) {
      if (alive.get(client) === false) {
        client.terminate();
        continue;
      }
      alive.set(client, false);
      client.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();
  server.on('upgrade', onUpgrade);
  // CONNECT would make this server a tunnel to anywhere: nothing here serves it.
  const onConnect = (_req: IncomingMessage, socket: Duplex) => answerAndClose(socket, statusOnly(405, 'Method Not Allowed'));
  const ownsConnect = server.listenerCount('connect') === 0;
  if (ownsConnect) server.on('connect', onConnect);

  return {
    handleRequest: (req, res) => preview.handleRequest(req, res),
    async close() {
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      if (ownsConnect) server.off('connect', onConnect);
      for (const client of wss.clients) client.close(1001, 'runner shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Whether a connection answered the last ping (see heartbeatMs). */
const alive = new WeakMap<WebSocket, boolean>();

function serveConnection(ws: WebSocket, runner: Runner): void {
  const runs = new Map<string, RunHandle>();
  // The pool serves waiting runs round-robin by this, and caps how many each may have waiting.
  const owner = {};
  const maxRuns = runner.limits.runsPerConnection;
  alive.set(ws, true);
  ws.on('pong', () => alive.set(ws, true));
  const send = (message: ServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  send({ type: 'hello', protocol: protocolVersion, isolation: runner.isolation, limits: runner.summary() });

  ws.on('message', (data, isBinary) => {
    const refuse = (detail: string) => send({ type: 'error', reason: reason('bad-request', { detail }) });
    if (isBinary) return refuse('binary messages are not part of the protocol');
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      return refuse('the message is not JSON');
    }
    const parsed = clientMessage.safeParse(json);
    if (!parsed.success) {
      const type = (json as { type?: unknown } | null)?.type;
      return refuse(typeof type === 'string' && type !== 'run' && type !== 'stop' ? `unknown message type "${type.slice(0, 40)}"` : 'malformed message');
    }
    const message = parsed.data;
    if (message.type === 'stop') {
      runs.get(message.runId)?.stop(reason('stopped'));
      return;
    }
    const { runId } = message;
    if (runs.has(runId)) return refuse(`run ${runId} is already going`);
    if (runs.size >= maxRuns) {
      return send({ type: 'exit', runId, code: null, signal: null, durationMs: 0, reason: reason('bad-request', { detail: `at most ${maxRuns} runs at once per page` }) });
    }
    let ended = false;
    const handle = runner.run({ manifest: message.manifest, files: message.files, owner, ...(message.preview ? { preview: true } : {}) }, (event) => {
      send({ ...event, runId });
      if (event.type === 'exit') {
        ended = true;
        runs.delete(runId);
      }
    });
    // A refused run has already sent its `exit`; only runs still going are tracked.
    if (!ended) runs.set(runId, handle);
  });

  ws.on('close', () => {
    for (const handle of runs.values()) handle.stop(reason('disconnected'));
    runs.clear();
  });
  ws.on('error', () => ws.terminate());
}
