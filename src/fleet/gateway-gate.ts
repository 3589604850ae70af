/**
 * The public gate and the operations pieces, put together as the gateway's hooks (gateway.ts,
 * GatewayHooks): who the client is (client-address.ts), its shared limits (client-limits.ts), the
 * bounded queue (back-pressure.ts), the metrics (metrics.ts) and one log line per run (run-log.ts).
 * The gateway calls these at its hook points and knows nothing of how they decide.
 *
 * Why a module of its own: the gateway's job is the protocol and the run's way through Redis;
 * this one's is policy. Keeping policy here lets each be tested alone (the limits against Redis,
 * the gate against a live gateway) and keeps the hooks the only seam between them.
 */
import type { IncomingMessage } from 'node:http';
import { Queue } from 'bullmq';
import type { RunEvent } from '../protocol/messages.ts';
import type { Reason } from '../protocol/reasons.ts';
import { admitToQueue, queueMaxFromEnv, readQueueState } from './back-pressure.ts';
import { clientAddress, clientHash, parseTrustedProxies, sharedClientSalt, type TrustedProxies } from './client-address.ts';
import { ClientLimits, clientLimitsFromEnv, type Hold } from './client-limits.ts';
import { fleetPrefix, runQueueName } from './contract.ts';
import type { GatewayHooks, RunInfo } from './gateway.ts';
import { createFleetMetrics, sandboxKindLabel, type FleetMetrics, type RefusalKind } from './metrics.ts';
import { readNodes } from './node-watch.ts';
import { bullConnection, commandConnection, whenReady } from './redis-clients.ts';
import { runLogLine } from './run-log.ts';

type ExitEvent = Extract<RunEvent, { type: 'exit' }>;

/** Where the salt every gateway shares is kept (client-address.ts, sharedClientSalt). */
export const clientSaltKey = `${fleetPrefix}:client-salt`;

export interface GatewayGate {
  hooks: GatewayHooks;
  metrics: FleetMetrics;
  close(): Promise<void>;
}

export interface GatewayGateOptions {
  redisUrl: string;
  gatewayId: string;
  env?: NodeJS.ProcessEnv;
  /** Where run log lines go (default stdout). */
  writeLog?: (line: string) => void;
  log?: (line: string) => void;
}

/** The refusal kind a reason counts as in asynclab_refusals_total. */
function refusalKind(why: Reason): RefusalKind {
  if (why.code === 'rate-limit') {
    const limit = why.params?.limit;
    if (limit === 'runs-per-minute' || limit === 'concurrent-runs' || limit === 'connections') return limit;
  }
  if (why.code === 'busy') return 'busy';
  if (why.code === 'fleet-unavailable') return 'fleet-unavailable';
  return 'bad-request';
}

/**
 * Reads the gate's configuration from the environment (ASYNCLAB_TRUSTED_PROXIES, ASYNCLAB_RUNS_PER_CLIENT,
 * ASYNCLAB_RUNS_PER_MINUTE, ASYNCLAB_CONNECTIONS_PER_CLIENT, ASYNCLAB_QUEUE_MAX, ASYNCLAB_CLIENT_SALT)
 * — a bad value is a startup error — and connects to Redis.
 */
export async function createGatewayGate(opts: GatewayGateOptions): Promise<GatewayGate> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? console.log;
  const writeLog = opts.writeLog ?? ((line: string) => process.stdout.write(`${line}\n`));
  const trusted: TrustedProxies = parseTrustedProxies(env.ASYNCLAB_TRUSTED_PROXIES);
  const limitsConfig = clientLimitsFromEnv(env);
  const queueMax = queueMaxFromEnv(env);

  const redis = commandConnection(opts.redisUrl, 'asynclab-gateway-gate', { offline: false });
  redis.on('error', () => undefined);
  await whenReady(redis);
  let salt = await sharedClientSalt(redis, clientSaltKey, env);
  // A Redis that restarted comes back empty: offer our salt again (or adopt the one another gateway stored first).
  redis.on('ready', () => void sharedClientSalt(redis, clientSaltKey, env, salt).then((shared) => (salt = shared), () => undefined));
  const limits = await ClientLimits.open(redis, limitsConfig);
  const queue = new Queue(runQueueName, { connection: bullConnection(opts.redisUrl), prefix: fleetPrefix });
  queue.on('error', () => undefined);

  // The nodes' capacity, read at most once a second (every admitted run asks).
  let capacity = { at: 0, value: Promise.resolve(0) };
  const fleetCapacity = (): Promise<number> => {
    if (Date.now() - capacity.at > 1_000) {
      capacity = {
        at: Date.now(),
        value: readNodes(redis).then((view) => (view.ok ? [...view.nodes.values()].filter((n) => !n.draining).reduce((sum, n) => sum + n.capacity, 0) : 0)),
      };
    }
    return capacity.value;
  };
  // A typical run's length for the busy retry estimate: a moving average of the runs this gateway saw end.
  let typicalRunSeconds = 5;

  const metrics = createFleetMetrics(
    {
      queueLength: async () => (await readQueueState(queue, 0)).waiting,
      nodes: async () => {
        const view = await readNodes(redis);
        if (!view.ok) throw new Error(view.why);
        return [...view.nodes.values()];
      },
    },
    { role: 'gateway', instance: opts.gatewayId },
  );

  const clients = new WeakMap<IncomingMessage, string>();
  const connectionHolds = new WeakMap<IncomingMessage, Hold>();
  /** The run holds of each connection (keyed by its upgrade request), by fleet run id. */
  const runHolds = new WeakMap<IncomingMessage, Map<string, Hold>>();
  const closed = new WeakSet<IncomingMessage>();
  const openConnections = new WeakSet<IncomingMessage>();
  /** Every run hold not yet released, so close() can give them back. */
  const allRunHolds = new Set<Hold>();

  const clientOf = (req: IncomingMessage): string => {
    let client = clients.get(req);
    if (client === undefined) {
      // No address (the socket already closed): one shared name, which only ever gets refused.
      client = clientHash(clientAddress(req, trusted) ?? 'unknown', salt);
      clients.set(req, client);
    }
    return client;
  };

  const releaseRun = (hold: Hold) => {
    allRunHolds.delete(hold);
    void hold.release();
  };

  /**
   * A connection is gone: its slot and every run slot it held are given back. Called from the
   * gateway's hook and from the socket's own close, whichever comes first (a connection whose
   * upgrade failed after admission never reaches the hook); the second call finds nothing to do.
   * Releasing run slots here, not only in runEnded, covers a run admitted just as its page left:
   * the gateway drops such a run without reporting its end.
   */
  const connectionGone = (req: IncomingMessage) => {
    closed.add(req);
    const holds = runHolds.get(req);
    if (holds) for (const hold of holds.values()) releaseRun(hold);
    runHolds.delete(req);
    if (openConnections.delete(req)) metrics.connectionClosed();
    const hold = connectionHolds.get(req);
    if (!hold) return;
    connectionHolds.delete(req);
    void hold.release();
  };

  /** A connection let in: counted in the gauge, and given back however it ends. */
  const connectionAdmitted = (req: IncomingMessage, hold: Hold | null) => {
    if (hold) connectionHolds.set(req, hold);
    openConnections.add(req);
    metrics.connectionOpened();
    if (req.socket.destroyed) connectionGone(req);
    else req.socket.once('close', () => connectionGone(req));
  };

  const hooks: GatewayHooks = {
    clientOf,
    async admitConnection(req) {
      const admission = await limits.admitConnection(clientOf(req));
      if (admission.ok) {
        connectionAdmitted(req, admission.hold);
        return null;
      }
      // The shared store is away: the connection is let in without a hold. Runs are refused meanwhile
      // by the gateway itself (fleet-unavailable), and the page stays connected for when Redis is back,
      // instead of being shut out and falling back to another engine for a blip.
      if (admission.reason.code === 'fleet-unavailable') {
        connectionAdmitted(req, null);
        return null;
      }
      metrics.refused(refusalKind(admission.reason));
      const retry = admission.reason.params?.retrySeconds;
      return { status: admission.reason.code === 'rate-limit' ? 429 : 503, why: admission.reason.message, reason: admission.reason, ...(typeof retry === 'number' ? { retryAfterSeconds: retry } : {}) };
    },
    connectionClosed: connectionGone,
    async admitRun(run: RunInfo) {
      const admission = await limits.admitRun(run.client);
      if (!admission.ok) {
        metrics.refused(refusalKind(admission.reason));
        return admission.reason;
      }
      let full: Reason | null = null;
      try {
        const state = await readQueueState(queue, await fleetCapacity());
        const room = admitToQueue(state, { queueMax, typicalRunSeconds });
        if (!room.ok) full = room.reason;
      } catch {
        // The queue's length could not be read: the gateway's own add will fail or succeed on its merits.
      }
      if (full) {
        await admission.hold.release();
        metrics.refused('busy');
        return full;
      }
      if (closed.has(run.req)) {
        // Its page left while it was being admitted: the gateway will drop it, so nothing is held for it.
        await admission.hold.release();
        return null;
      }
      let holds = runHolds.get(run.req);
      if (!holds) runHolds.set(run.req, (holds = new Map()));
      holds.set(run.fleetRunId, admission.hold);
      allRunHolds.add(admission.hold);
      return null;
    },
    runStarted(run) {
      metrics.runStarted(sandboxKindLabel({ kind: run.kind }, false));
    },
    runEnded(run: RunInfo, exit: ExitEvent) {
      const holds = runHolds.get(run.req);
      const hold = holds?.get(run.fleetRunId);
      if (hold) {
        holds!.delete(run.fleetRunId);
        releaseRun(hold);
      }
      const kind = sandboxKindLabel({ kind: run.kind }, false);
      const code = exit.reason?.code ?? null;
      metrics.runFinished(kind, code, exit.durationMs);
      if (run.startedAt !== undefined) metrics.queueWait(kind, run.startedAt - run.submittedAt);
      if (exit.durationMs > 0) typicalRunSeconds = 0.8 * typicalRunSeconds + 0.2 * (exit.durationMs / 1000);
      writeLog(
        runLogLine({
          from: 'gateway',
          runId: run.fleetRunId,
          sandbox: run.sandbox ?? '',
          node: run.node ?? null,
          client: run.client,
          queueWaitMs: run.startedAt === undefined ? null : run.startedAt - run.submittedAt,
          durationMs: exit.durationMs,
          exit: code,
        }),
      );
    },
    refused: (kind) => metrics.refused(kind),
    metrics: () => metrics.exposition(),
  };

  return {
    hooks,
    metrics,
    async close() {
      // Holds still open are released so a drained gateway leaves nothing for the lease to heal.
      await Promise.allSettled([...allRunHolds].map((h) => h.release()));
      allRunHolds.clear();
      await limits.close();
      await queue.close().catch(() => undefined);
      redis.disconnect();
      log(`gateway ${opts.gatewayId}: gate closed`);
    },
  };
}
