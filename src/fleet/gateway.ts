/**
 * A gateway: the public endpoint of the hosted fleet. It holds the readers' WebSocket connections
 * at /__runner, speaking the runner protocol of today (protocol/messages.ts), and keeps no state
 * that another gateway would need: a run lives in Redis (its BullMQ job, its event stream), and
 * only the connection that started it is here. Any number of gateways can stand side by side.
 *
 * One run: `run` from an allowed page → admitted (the hook below) → a job on the `runs` queue
 * (job id = the fleet run id `<gateway>.<connection>.<runId>`, attempts 1) → the node that takes it
 * writes the run's stream → this gateway's one reader loop (event-stream.ts) forwards each event,
 * in order, to that connection only → exactly one `exit`, whoever produces it: the node, or this
 * gateway when the node is lost (node-lost), the queue is unreachable (fleet-unavailable), or the
 * job was removed before a node took it (stopped).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientMessage, protocolVersion, type LimitsSummary, type RunEvent, type ServerMessage } from '../protocol/messages.ts';
import { reason, type Reason } from '../protocol/reasons.ts';
import { limitsFromEnv, type Limits } from '../runner/limits.ts';
import { httpServerOptions } from '../server/app.ts';
import { answerAndClose, statusOnly } from '../runner/raw-answer.ts';
import { eventStreamTtlSeconds, fleetPrefix, keys, runQueueName, stopChannel, type FleetEvent, type RunJobData } from './contract.ts';
import { StreamReader } from './event-stream.ts';
import { createGatewayPreview } from './gateway-preview.ts';
import { readNodes, type NodeView } from './node-watch.ts';
import { answerClientError } from './client-error.ts';
import { checkOrigin } from './origins.ts';
import { reconnectCloseCode } from '../protocol/close-codes.ts';
import { bullConnection, commandConnection, whenReady } from './redis-clients.ts';

export const runnerPath = '/__runner';

type ExitEvent = Extract<RunEvent, { type: 'exit' }>;

/** What the hooks know of a run (no source, no output). */
export interface RunInfo {
  fleetRunId: string;
  runId: string;
  /** The sandbox id from the manifest, when it has one (for logs and metrics). */
  sandbox: string | undefined;
  kind: string | undefined;
  /** Salted hash of the client's address. */
  client: string;
  /** The HTTP request that opened the run's connection (for the client's address). */
  req: IncomingMessage;
  submittedAt: number;
  /** The node that took it, once one has. */
  node: string | undefined;
  startedAt: number | undefined;
}

/**
 * ============================== HOOK POINT ==============================
 * Per-client limits, metrics and run logs (client-limits.ts, metrics.ts, run-log.ts) plug in
 * here. `admitConnection` runs before a WebSocket is accepted; `admitRun` runs before a run is
 * queued (a Reason refuses it: the page gets `exit` with that reason and nothing is queued);
 * `runEnded` runs exactly once for every admitted run, with its exit, whoever ended it.
 * `clientOf` names the client (default: a salted hash of the direct peer's address).
 */
/**
 * A refused connection. With a `reason` (a per-client limit: gateway-gate.ts) the WebSocket is
 * accepted only to carry it as the protocol's `error`, then closed with `refusedCloseCode`, so the
 * page can word it in its reader's language with when to retry (a browser shows a page nothing of
 * a refused upgrade's HTTP answer). Without one, the HTTP status is all the answer.
 */
export interface ConnectionRefusal {
  status: number;
  why: string;
  retryAfterSeconds?: number;
  reason?: Reason;
}

/** The close code after a refusal carried as a protocol message (RFC 6455 1008: policy violation). */
export const refusedCloseCode = 1008;

export interface GatewayHooks {
  admitConnection?(req: IncomingMessage): Promise<ConnectionRefusal | null> | ConnectionRefusal | null;
  connectionClosed?(req: IncomingMessage): void;
  admitRun?(run: RunInfo): Promise<Reason | null> | Reason | null;
  runStarted?(run: RunInfo): void;
  runEnded?(run: RunInfo, exit: ExitEvent): void;
  clientOf?(req: IncomingMessage): string;
  /** A refusal the gateway made by itself (not through a hook), for the refusals metric. */
  refused?(kind: 'origin' | 'message-size'): void;
  /** The Prometheus text for GET /metrics (metrics.ts); without it the path is 404. */
  metrics?(): Promise<{ contentType: string; body: string }>;
}

export interface GatewayOptions {
  redisUrl: string;
  /** ASYNCLAB_PUBLIC_ORIGINS, parsed (origins.ts). */
  origins: ReadonlySet<string>;
  /** ASYNCLAB_FLEET_SECRET, for the nodes' preview endpoints. */
  secret: string;
  limits?: Limits;
  hooks?: GatewayHooks;
  id?: string;
  log?: (line: string) => void;
  /** How often node liveness and queue positions are checked (default 1 s). */
  pollMs?: number;
  /** WebSocket ping interval (default 30 s). */
  heartbeatMs?: number;
  /** Open sockets of every kind at most (ASYNCLAB_GATEWAY_MAX_CONNECTIONS; default gatewayMaxConnections). */
  maxConnections?: number;
}

/**
 * The gateway's global cap on open sockets, WebSockets included: beyond it a new connection is
 * closed as soon as it is accepted. The per-client limit (4 runner connections) keeps one client
 * in its share, but addresses are cheap (IPv6, botnets) and sockets that never became a request
 * (silent, garbage) reach no per-client check at all; this keeps any flood below the process's
 * file-descriptor limit so the readers already connected keep their runs.
 */
export const gatewayMaxConnections = 4096;

interface GatewayRun {
  info: RunInfo;
  conn: Connection;
  state: 'adding' | 'waiting' | 'assigned' | 'ended';
  /** Let in by the admission hook: only such runs are reported to `runEnded`. */
  admitted: boolean;
  position: number | undefined;
  stopRequested: boolean;
}

interface Connection {
  id: string;
  ws: WebSocket;
  req: IncomingMessage;
  client: string;
  runs: Map<string, GatewayRun>;
  send(message: ServerMessage): void;
}

const addTimeoutMs = 10_000;
/** A run no node has taken after this long is checked against its job (a node may have died taking it). */
const orphanCheckMs = 5_000;
/** How long runs may wait with no node alive before they are refused (a node restarting is back well within it). */
const noNodeGraceMs = 10_000;

export class Gateway {
  readonly id: string;
  readonly server: Server;
  private readonly opts: GatewayOptions;
  private readonly limits: Limits;
  private readonly hooks: GatewayHooks;
  private readonly log: (line: string) => void;
  private readonly redis: Redis;
  private readonly readerConn: Redis;
  private readonly queue: Queue;
  private readonly reader: StreamReader;
  private readonly wss: WebSocketServer;
  private readonly runs = new Map<string, GatewayRun>();
  private readonly connections = new Set<Connection>();
  private readonly salt = randomBytes(16);
  private nodes: NodeView = { ok: false, why: 'not checked yet', at: 0 };
  private poller: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private polling = false;
  /** Since when no node has been alive (undefined while one is). */
  private nodelessSince: number | undefined;
  private nextConn = 0;
  private closing = false;

  private constructor(opts: GatewayOptions, redis: Redis, readerConn: Redis) {
    this.opts = opts;
    this.id = opts.id ?? randomBytes(6).toString('base64url');
    this.limits = opts.limits ?? limitsFromEnv();
    this.hooks = opts.hooks ?? {};
    this.log = opts.log ?? console.log;
    this.redis = redis;
    this.readerConn = readerConn;
    this.queue = new Queue(runQueueName, { connection: bullConnection(opts.redisUrl), prefix: fleetPrefix, streams: { events: { maxLen: 1000 } } });
    this.queue.on('error', (err) => this.log(`gateway ${this.id}: queue: ${err.message}`));
    this.reader = new StreamReader(readerConn, redis, this.log);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.messageBytes });
    // npm start's timeouts, checked every 2 s (Node's default check is every 30 s, which let a
    // silent or dripping client hold its socket up to 40 s): headers in 10 s, a request in 30 s.
    this.server = createServer({ ...httpServerOptions, maxHeaderSize: 16 * 1024 });
    this.server.maxConnections = opts.maxConnections ?? gatewayMaxConnections;
  }

  static async start(opts: GatewayOptions): Promise<Gateway> {
    const redis = commandConnection(opts.redisUrl, 'asynclab-gateway', { offline: false });
    const readerConn = commandConnection(opts.redisUrl, 'asynclab-gateway-reader', { offline: false });
    redis.on('error', () => undefined);
    readerConn.on('error', () => undefined);
    await Promise.all([whenReady(redis), whenReady(readerConn)]);
    const gateway = new Gateway(opts, redis, readerConn);
    gateway.mount();
    redis.on('close', () => gateway.lostRedis());
    await gateway.poll();
    gateway.poller = setInterval(() => void gateway.poll(), opts.pollMs ?? 1_000);
    return gateway;
  }

  /** Readiness: Redis answers and at least one node is alive (GET /readyz). */
  get readiness(): { ready: true; nodes: number } | { ready: false; why: string } {
    if (this.redis.status !== 'ready') return { ready: false, why: 'Redis is unreachable' };
    if (!this.nodes.ok) return { ready: false, why: this.nodes.why };
    const live = [...this.nodes.nodes.values()].filter((n) => !n.draining).length;
    return live > 0 ? { ready: true, nodes: live } : { ready: false, why: 'no runner node is alive' };
  }

  /** SIGTERM: every page is told to reconnect (close code 4000), its runs are stopped, then the gateway leaves. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.poller) clearInterval(this.poller);
    if (this.pinger) clearInterval(this.pinger);
    const closed = [...this.connections].map((c) => new Promise<void>((resolve) => {
      c.ws.once('close', () => resolve());
      c.ws.close(reconnectCloseCode, 'reconnect');
      setTimeout(() => {
        c.ws.terminate();
        resolve();
      }, 2_000).unref();
    }));
    await Promise.all(closed);
    // The stop requests of those runs go out before the connections to Redis close.
    await this.redis.ping().catch(() => undefined);
    await this.reader.close();
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
    this.readerConn.disconnect();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private mount(): void {
    const preview = createGatewayPreview({ redis: this.redis, secret: this.opts.secret, origins: this.opts.origins, log: this.log });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (preview.handleRequest(req, res)) return;
      const path = (req.url ?? '').split('?', 1)[0];
      if (path === '/healthz') return json(res, 200, { ok: true, gateway: this.id });
      if (path === '/readyz') {
        // Redis asked now (a load balancer acts on this), the nodes as of the last poll (≤ 1 s old).
        void withTimeout(this.redis.ping(), 1_000).then(
          () => {
            const r = this.readiness;
            json(res, r.ready ? 200 : 503, r.ready ? { ready: true, nodes: r.nodes } : { ready: false, reason: r.why });
          },
          () => json(res, 503, { ready: false, reason: 'Redis is unreachable' }),
        );
        return;
      }
      if (path === '/metrics' && this.hooks.metrics) {
        void this.hooks.metrics().then(
          ({ contentType, body }) => {
            res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
            res.end(body);
          },
          (err: Error) => json(res, 500, { error: `metrics: ${err.message}` }),
        );
        return;
      }
      if (path === runnerPath) return json(res, 426, { error: 'the runner speaks WebSocket here' });
      json(res, 404, { error: 'not found' });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      if (preview.handleUpgrade(req, socket, head)) return;
      void this.upgrade(req, socket, head).catch((err: Error) => {
        this.log(`gateway ${this.id}: upgrade failed: ${err.message}`);
        answerAndClose(socket, statusOnly(500, 'Internal Server Error'));
      });
    });
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => answerAndClose(socket, statusOnly(405, 'Method Not Allowed')));
    this.server.on('clientError', answerClientError);
    // A page that vanished without closing is found by its missing pong and dropped (its runs stop).
    const alive = new WeakMap<WebSocket, boolean>();
    this.wss.on('connection', (ws: WebSocket) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
    });
    this.pinger = setInterval(() => {
      for (const ws of this.wss.clients) {
        if (alive.get(ws) === false) {
          ws.terminate();
          continue;
        }
        alive.set(ws, false);
        ws.ping();
      }
    }, this.opts.heartbeatMs ?? 30_000);
    this.pinger.unref();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== runnerPath) return answerAndClose(socket, statusOnly(404, 'Not Found'));
    const origin = checkOrigin(req, this.opts.origins);
    if (!origin.ok) {
      this.log(`gateway ${this.id}: refused a connection: ${origin.why}`);
      this.hooks.refused?.('origin');
      return answerAndClose(socket, statusOnly(403, 'Forbidden'));
    }
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return answerAndClose(socket, statusOnly(400, 'Bad Request'));
    if (this.closing) return answerAndClose(socket, `HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    const refused = await this.hooks.admitConnection?.(req);
    if (refused?.reason) {
      const why = refused.reason;
      return this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => ws.terminate());
        ws.send(JSON.stringify({ type: 'error', reason: why } satisfies ServerMessage), () => ws.close(refusedCloseCode, why.code));
      });
    }
    if (refused) {
      const retry = refused.retryAfterSeconds !== undefined ? `Retry-After: ${Math.ceil(refused.retryAfterSeconds)}\r\n` : '';
      return answerAndClose(socket, `HTTP/1.1 ${refused.status} ${refused.why.replace(/[^\x20-\x7e]/g, '').slice(0, 80)}\r\n${retry}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wss.emit('connection', ws, req);
      this.serve(ws, req);
    });
  }

  private clientOf(req: IncomingMessage): string {
    if (this.hooks.clientOf) return this.hooks.clientOf(req);
    return createHash('sha256').update(this.salt).update(req.socket.remoteAddress ?? '').digest('base64url').slice(0, 16);
  }

  private hello(): ServerMessage {
    const nodes = this.nodes.ok ? [...this.nodes.nodes.values()] : [];
    // The weakest isolation any node offers is what a run may get.
    const isolation = nodes.some((n) => n.isolation === 'none') ? 'none' : 'bwrap';
    const limits: LimitsSummary = nodes.find((n) => n.limits)?.limits ?? summaryOf(this.limits);
    return { type: 'hello', protocol: protocolVersion, isolation, limits };
  }

  private serve(ws: WebSocket, req: IncomingMessage): void {
    const conn: Connection = {
      id: (this.nextConn++).toString(36),
      ws,
      req,
      client: this.clientOf(req),
      runs: new Map(),
      send: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
      },
    };
    this.connections.add(conn);
    conn.send(this.hello());
    ws.on('message', (data, isBinary) => {
      const refuse = (detail: string) => conn.send({ type: 'error', reason: reason('bad-request', { detail }) });
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
        const run = conn.runs.get(message.runId);
        if (run) this.stop(run, reason('stopped'));
        return;
      }
      if (conn.runs.has(message.runId)) return refuse(`run ${message.runId} is already going`);
      const exitNow = (why: Reason) => conn.send({ type: 'exit', runId: message.runId, code: null, signal: null, durationMs: 0, reason: why });
      if (conn.runs.size >= this.limits.runsPerConnection) return exitNow(reason('bad-request', { detail: `at most ${this.limits.runsPerConnection} runs at once per page` }));
      void this.start(conn, message).catch((err: Error) => this.log(`gateway ${this.id}: run failed: ${err.message}`));
    });
    ws.on('close', () => {
      this.connections.delete(conn);
      for (const run of [...conn.runs.values()]) {
        this.stop(run, reason('disconnected'));
        this.end(run, exitOf(reason('disconnected')));
      }
      this.hooks.connectionClosed?.(req);
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes a connection whose message is over maxPayload (1009) and reports it here.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.hooks.refused?.('message-size');
      ws.terminate();
    });
  }

  private async start(conn: Connection, message: { runId: string; manifest: unknown; files: Record<string, string>; preview?: boolean | undefined }): Promise<void> {
    const fleetRunId = `${this.id}.${conn.id}.${message.runId}`;
    const manifest = message.manifest as { id?: unknown; kind?: unknown } | null;
    const info: RunInfo = {
      fleetRunId,
      runId: message.runId,
      sandbox: typeof manifest?.id === 'string' ? manifest.id.slice(0, 80) : undefined,
      kind: typeof manifest?.kind === 'string' ? manifest.kind.slice(0, 20) : undefined,
      client: conn.client,
      req: conn.req,
      submittedAt: Date.now(),
      node: undefined,
      startedAt: undefined,
    };
    const run: GatewayRun = { info, conn, state: 'adding', admitted: false, position: undefined, stopRequested: false };
    // Taken now, before any await: a second `run` with the same id is refused, and a `stop` finds it.
    conn.runs.set(message.runId, run);
    this.runs.set(fleetRunId, run);

    try {
      await this.admitAndQueue(run, message);
    } catch (err) {
      // A hook or the queue failed in a way not foreseen: the run still ends, with the reason.
      this.log(`gateway ${this.id}: run ${fleetRunId} failed before it was queued: ${(err as Error).message}`);
      this.end(run, exitOf(reason('internal', { detail: 'the gateway could not queue the run' })));
    }
  }

  private async admitAndQueue(run: GatewayRun, message: { manifest: unknown; files: Record<string, string>; preview?: boolean | undefined }): Promise<void> {
    const { info, conn } = run;
    const fleetRunId = info.fleetRunId;
    const unavailable = this.unavailable();
    if (unavailable) return this.end(run, exitOf(unavailable));
    // ===== HOOK: a run is admitted here (or refused, with its reason, before anything is queued).
    const refused = await this.hooks.admitRun?.(info);
    if (run.state === 'ended') return; // its page left meanwhile
    if (refused) return this.end(run, exitOf(refused));
    run.admitted = true;
    this.hooks.runStarted?.(info);

    this.reader.add(fleetRunId, (event) => this.onEvent(run, event));
    const data: RunJobData = {
      runId: fleetRunId,
      manifest: message.manifest,
      files: message.files,
      preview: message.preview === true,
      client: conn.client,
      gateway: this.id,
      submittedAt: info.submittedAt,
    };
    try {
      await withTimeout(this.queue.add('run', data, { jobId: fleetRunId, attempts: 1, removeOnComplete: true, removeOnFail: { age: 3600 } }), addTimeoutMs);
    } catch (err) {
      this.log(`gateway ${this.id}: could not queue ${fleetRunId}: ${(err as Error).message}`);
      return this.end(run, exitOf(reason('fleet-unavailable', { detail: 'the queue could not be reached' })));
    }
    if (run.state === 'adding') run.state = 'waiting';
    // A stop that came while the job was being added: now it can be taken off the queue.
    if (run.stopRequested && run.state === 'waiting') await this.removeWaiting(run, reason('stopped'));
  }

  /** Why no run can be taken now, if so: the queue unreachable, or no node to run it. */
  private unavailable(): Reason | undefined {
    if (this.closing) return reason('fleet-unavailable', { detail: 'this gateway is shutting down' });
    if (this.redis.status !== 'ready') return reason('fleet-unavailable', { detail: 'the queue is unreachable' });
    if (this.nodes.ok && ![...this.nodes.nodes.values()].some((n) => !n.draining)) return reason('fleet-unavailable', { detail: 'no runner node is running' });
    return undefined;
  }

  private onEvent(run: GatewayRun, event: FleetEvent): void {
    if (run.state === 'ended') return;
    if (event.type === 'assigned') {
      run.state = 'assigned';
      run.info.node = event.node;
      run.info.startedAt = Date.now();
      return;
    }
    if (event.type === 'exit') return this.end(run, event);
    // A node's own pool never makes a run wait (its Worker takes only what it can start), so a
    // `queued` here is unlikely; it is forwarded like the rest.
    run.conn.send({ ...event, runId: run.info.runId });
  }

  /** Ends a run for its page: exactly once, whoever calls first. */
  private end(run: GatewayRun, exit: ExitEvent): void {
    if (run.state === 'ended') return;
    run.state = 'ended';
    this.reader.remove(run.info.fleetRunId);
    this.runs.delete(run.info.fleetRunId);
    run.conn.runs.delete(run.info.runId);
    run.conn.send({ ...exit, runId: run.info.runId });
    // A run ended here (node lost, page gone, queue lost) may never get the node's exit, which is
    // what sets its stream's expiry: set here too, so no stream outlives its run for long.
    if (run.admitted) this.redis.expire(keys.events(run.info.fleetRunId), eventStreamTtlSeconds).catch(() => undefined);
    // ===== HOOK: every admitted run ends here, once.
    if (run.admitted) this.hooks.runEnded?.(run.info, exit);
  }

  /** Asks the run's node to stop it (flag + publish); a job still waiting is taken off the queue. */
  private stop(run: GatewayRun, why: Reason): void {
    if (run.state === 'ended' || run.stopRequested) return;
    run.stopRequested = true;
    const id = run.info.fleetRunId;
    this.redis
      .multi()
      .set(keys.stopped(id), why.code, 'EX', 600)
      .publish(stopChannel, id)
      .exec()
      .catch(() => undefined);
    if (run.state === 'waiting') void this.removeWaiting(run, reason('stopped'));
  }

  private async removeWaiting(run: GatewayRun, why: Reason): Promise<void> {
    // remove() refuses a job a node holds (locked): that node stops it and reports the exit itself.
    const removed = await this.queue.remove(run.info.fleetRunId).catch(() => 0);
    if (removed === 1) this.end(run, exitOf(why));
  }

  private lostRedis(): void {
    if (this.runs.size === 0) return;
    this.log(`gateway ${this.id}: lost Redis; ending ${this.runs.size} run(s) in flight`);
    for (const run of [...this.runs.values()]) this.end(run, exitOf(reason('fleet-unavailable', { detail: 'the connection to the queue was lost' })));
  }

  /** Once a second: which nodes live; runs whose node vanished; queue positions; runs no node took. */
  private async poll(): Promise<void> {
    if (this.polling || this.closing) return;
    this.polling = true;
    try {
      this.nodes = await readNodes(this.redis);
      if (!this.nodes.ok) return;
      const live = this.nodes.nodes;
      for (const run of [...this.runs.values()]) {
        if (run.state === 'assigned' && run.info.node && !live.has(run.info.node)) {
          this.log(`gateway ${this.id}: node ${run.info.node} is gone; run ${run.info.fleetRunId} ends (node-lost)`);
          this.end(run, exitOf(reason('node-lost')));
        }
      }
      await this.positions();
      await this.abandonIfNoNodes();
    } finally {
      this.polling = false;
    }
  }

  /**
   * Runs left waiting while no node (that is not draining) is alive: after a grace period (a node
   * may be restarting) they are taken off the queue and end fleet-unavailable, never left hanging.
   */
  private async abandonIfNoNodes(): Promise<void> {
    if (!this.nodes.ok || [...this.nodes.nodes.values()].some((n) => !n.draining)) {
      this.nodelessSince = undefined;
      return;
    }
    this.nodelessSince ??= Date.now();
    if (Date.now() - this.nodelessSince < noNodeGraceMs) return;
    for (const run of [...this.runs.values()]) {
      if (run.state === 'waiting') await this.removeWaiting(run, reason('fleet-unavailable', { detail: 'no runner node is running' }));
    }
  }

  /** Queue positions of waiting runs (1 = next), from BullMQ's wait list (new jobs at its head). */
  private async positions(): Promise<void> {
    const waiting = [...this.runs.values()].filter((r) => r.state === 'waiting');
    if (!waiting.length) return;
    const waitKey = `${fleetPrefix}:${runQueueName}:wait`;
    const pipeline = this.redis.pipeline().llen(waitKey);
    for (const run of waiting) pipeline.lpos(waitKey, run.info.fleetRunId);
    const answers = await pipeline.exec().catch(() => null);
    if (!answers) return;
    const length = Number(answers[0]?.[1] ?? 0);
    const orphans: GatewayRun[] = [];
    waiting.forEach((run, i) => {
      const index = answers[i + 1]?.[1];
      if (typeof index === 'number') {
        const position = length - index;
        if (position !== run.position && run.state === 'waiting') {
          run.position = position;
          run.conn.send({ type: 'queued', runId: run.info.runId, position });
        }
      } else if (Date.now() - run.info.submittedAt > orphanCheckMs) {
        orphans.push(run);
      }
    });
    for (const run of orphans) await this.checkOrphan(run);
  }

  /**
   * A run that left the wait list long ago but whose stream is still empty: a node took the job
   * and died before writing a word (its job then fails as stalled, never retried), or Redis lost it.
   */
  private async checkOrphan(run: GatewayRun): Promise<void> {
    const id = run.info.fleetRunId;
    const [length, state] = await Promise.all([this.redis.xlen(keys.events(id)).catch(() => -1), this.queue.getJobState(id).catch(() => 'error')]);
    if (length !== 0 || run.state !== 'waiting') return;
    if (state === 'failed') this.end(run, exitOf(reason('node-lost')));
    else if (state === 'unknown' || state === 'completed') this.end(run, exitOf(reason('fleet-unavailable', { detail: 'the queue lost the run' })));
  }
}

function exitOf(why: Reason): ExitEvent {
  return { type: 'exit', code: null, signal: null, durationMs: 0, reason: why };
}

function summaryOf(limits: Limits): LimitsSummary {
  const { wallMsScript, wallMsServer, wallMsPreview, memoryBytes, outputBytes, sourceBytes, messageBytes } = limits;
  return { wallMsScript, wallMsServer, wallMsPreview, memoryBytes, outputBytes, sourceBytes, messageBytes };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
