/**
 * A runner node: a BullMQ Worker on the `runs` queue wrapping one ordinary `Runner`
 * (bwrap, limits, cgroups, services exactly as embedded). Concurrency is the runner's pool size,
 * so a job the node takes starts at once. Each job's events go to the run's stream (contract.ts),
 * always ending with exactly one `exit`.
 *
 * Faults, as the contract promises:
 *   - jobs are never retried: the Worker runs with `maxStalledCount: 0` (a job whose node died is
 *     failed, not handed to another node) and gateways add them with `attempts: 1`;
 *   - losing Redis: the node stops its own runs (their events can no longer reach anyone; the
 *     gateways end them for their readers) and takes jobs again once Redis is back;
 *   - drain (SIGTERM, node-main.ts): `close()` stops taking jobs and waits for the running ones.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Runner, RunHandle } from '../runner/runner.ts';
import { reason, type Reason } from '../protocol/reasons.ts';
import type { RunEvent } from '../protocol/messages.ts';
import { capabilityPattern, previewPrefix } from '../runner/preview/registry.ts';
import { endedPreviewTtlMs, fleetPrefix, fleetRunIdPattern, keys, nodeHeartbeatMs, nodeTtlMs, runQueueName, stopChannel, type FleetEvent, type NodeInfo, type PreviewRoute, type RunJobData } from './contract.ts';
import { appendEvent } from './event-stream.ts';
import { parseJobData } from './job-data.ts';
import { runLogEntry, writeRunLog } from './run-log.ts';
import { bullConnection, commandConnection, whenReady } from './redis-clients.ts';

export interface NodeOptions {
  runner: Runner;
  redisUrl: string;
  /** Where gateways reach this node's preview endpoint (node-preview.ts), or null without one. */
  previewUrl: string | null;
  id?: string;
  log?: (line: string) => void;
}

interface LocalRun {
  /** Set by a stop that came before the run was handed to the runner. */
  stopWhy: Reason | undefined;
  handle: RunHandle | undefined;
}

export function newNodeId(): string {
  return `${hostname().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 24) || 'node'}-${randomBytes(4).toString('hex')}`;
}

export class RunnerNode {
  readonly id: string;
  private readonly runner: Runner;
  private readonly log: (line: string) => void;
  private readonly previewUrl: string | null;
  /** Events and heartbeats. Commands fail at once while Redis is away (never replayed into a fresh Redis). */
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly worker: Worker<unknown>;
  private readonly runs = new Map<string, LocalRun>();
  private heartbeat: NodeJS.Timeout | undefined;
  private draining = false;

  private constructor(opts: NodeOptions, redis: Redis, sub: Redis) {
    this.id = opts.id ?? newNodeId();
    this.runner = opts.runner;
    this.log = opts.log ?? console.log;
    this.previewUrl = opts.previewUrl;
    this.redis = redis;
    this.sub = sub;
    this.worker = new Worker(runQueueName, (job) => this.process(job), {
      connection: bullConnection(opts.redisUrl),
      prefix: fleetPrefix,
      concurrency: this.runner.limits.concurrency,
      // A stalled job (its node died or lost Redis) fails; it is never handed to another node.
      // The lock is renewed every lockDuration/2; a shorter one than BullMQ's 30 s lets the dead
      // node's job be marked failed sooner (the reader has already been told: node-lost). A live
      // node too slow to renew in time loses only the job's bookkeeping: its run goes on and
      // reports through its stream as before, and the job is failed, never handed to another node.
      maxStalledCount: 0,
      lockDuration: 10_000,
      stalledInterval: 3_000,
      autorun: false,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 3600 },
    });
    // A failed lock renewal or a lost connection: logged; the node itself decides what to do about its runs.
    this.worker.on('error', (err) => this.log(`node ${this.id}: queue: ${err.message}`));
  }

  static async start(opts: NodeOptions): Promise<RunnerNode> {
    const redis = commandConnection(opts.redisUrl, 'asynclab-node', { offline: false });
    const sub = commandConnection(opts.redisUrl, 'asynclab-node-stop');
    redis.on('error', () => undefined); // reported through 'close' below, not as an unhandled error
    sub.on('error', () => undefined);
    await Promise.all([whenReady(redis), whenReady(sub)]);
    const node = new RunnerNode(opts, redis, sub);
    await sub.subscribe(stopChannel);
    sub.on('message', (_channel: string, runId: string) => void node.stopRequested(runId));
    redis.on('close', () => node.lostRedis());
    redis.on('ready', () => node.beat());
    node.beat();
    node.heartbeat = setInterval(() => node.beat(), nodeHeartbeatMs);
    void node.worker.run().catch((err: Error) => node.log(`node ${node.id}: the worker stopped: ${err.message}`));
    node.log(`node ${node.id}: taking runs (${node.runner.limits.concurrency} at once, isolation ${node.runner.isolation})`);
    return node;
  }

  get running(): number {
    return this.runs.size;
  }

  /** Drain: take no more jobs, let the running ones finish (each within its wall limit), then leave. */
  async close(): Promise<void> {
    this.draining = true;
    this.beat(); // gateways stop counting this node as ready now, not at the next beat
    await this.worker.close();
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.redis.del(keys.node(this.id)).catch(() => undefined);
    this.redis.disconnect();
    this.sub.disconnect();
  }

  private beat(): void {
    const info: NodeInfo = {
      id: this.id,
      capacity: this.runner.limits.concurrency,
      running: this.runs.size,
      isolation: this.runner.isolation,
      previewUrl: this.previewUrl,
      limits: this.runner.summary(),
      draining: this.draining,
    };
    this.redis.set(keys.node(this.id), JSON.stringify(info), 'PX', nodeTtlMs).catch(() => undefined);
  }

  private lostRedis(): void {
    if (this.runs.size === 0) return;
    this.log(`node ${this.id}: lost Redis; stopping its ${this.runs.size} run(s), which can no longer be reported`);
    for (const runId of [...this.runs.keys()]) this.stopLocal(runId, reason('fleet-unavailable', { detail: 'the node lost its connection to the queue' }));
  }

  /** A gateway asked to stop a run: here, if it is ours, with the reason the gateway left in its stopped flag. */
  private async stopRequested(runId: string): Promise<void> {
    if (!this.runs.has(runId)) return;
    const code = await this.redis.get(keys.stopped(runId)).catch(() => null);
    this.stopLocal(runId, reason(code === 'disconnected' ? 'disconnected' : 'stopped'));
  }

  private stopLocal(runId: string, why: Reason): void {
    const run = this.runs.get(runId);
    if (!run) return;
    if (run.handle) run.handle.stop(why);
    else run.stopWhy ??= why;
  }

  /** One job: resolves when its run has ended and its exit is written (or could not be). */
  private async process(job: Job<unknown>): Promise<void> {
    const parsed = parseJobData(job.data);
    if (!parsed.ok) {
      this.log(`node ${this.id}: refused job ${String(job.id).slice(0, 80)}: ${parsed.detail}`);
      // Its page still hears why, if the job names a run id that could be one (its own job id).
      const runId = (job.data as { runId?: unknown } | null)?.runId;
      if (typeof runId === 'string' && runId === job.id && fleetRunIdPattern.test(runId)) {
        await appendEvent(this.redis, runId, { type: 'exit', code: null, signal: null, durationMs: 0, reason: reason('bad-request', { detail: parsed.detail }) }).catch(() => undefined);
      }
      return;
    }
    const data = parsed.data;
    if (job.id !== data.runId || this.runs.has(data.runId)) {
      this.log(`node ${this.id}: refused job ${String(job.id).slice(0, 80)}: its id and run id differ, or the run is already here`);
      return;
    }
    const local: LocalRun = { stopWhy: undefined, handle: undefined };
    this.runs.set(data.runId, local);
    try {
      await this.execute(data, local);
    } finally {
      this.runs.delete(data.runId);
    }
  }

  private async execute(data: RunJobData, local: LocalRun): Promise<void> {
    const { runId } = data;
    const write = (event: FleetEvent) => appendEvent(this.redis, runId, event).catch(() => undefined);
    const stopped = await this.redis.get(keys.stopped(runId)).then((code) => code, () => 'unreachable');
    if (stopped !== null || local.stopWhy) {
      // Asked to stop before it started (or Redis went away meanwhile): it never runs.
      await write({ type: 'exit', code: null, signal: null, durationMs: 0, reason: local.stopWhy ?? reason(stopped === 'disconnected' ? 'disconnected' : 'stopped') });
      return;
    }
    await write({ type: 'assigned', node: this.id, isolation: this.runner.isolation });
    const startedAt = Date.now();
    let preview: string | undefined;
    let route: PreviewRoute | undefined;
    let exited!: () => void;
    const ended = new Promise<void>((resolve) => (exited = resolve));
    // Writes are issued in event order on one connection; the last one awaited is the exit.
    let lastWrite: Promise<unknown> = Promise.resolve();
    const handle = this.runner.run({ manifest: data.manifest, files: data.files, ...(data.preview ? { preview: true } : {}) }, (event: RunEvent) => {
        // The route is written before `ready` and marked ended before `exit` (one connection, so in
      // that order): a gateway that has seen `ready` finds the preview, one that has seen `exit` does not.
      if (event.type === 'ready' && event.preview) {
        preview = capabilityOf(event.preview.path);
        if (preview && this.previewUrl) {
          route = { node: this.id, runId, url: this.previewUrl };
          this.redis.set(keys.preview(preview), JSON.stringify(route), 'PX', this.runner.limits.wallMsPreview + 60_000).catch(() => undefined);
        }
      }
      if (event.type === 'exit' && preview && route) {
        this.redis.set(keys.preview(preview), JSON.stringify({ ...route, ended: true }), 'PX', endedPreviewTtlMs).catch(() => undefined);
      }
      lastWrite = write(event);
      if (event.type === 'exit') {
        // The node's line of the run (run-log.ts): identifiers, times and the exit code only.
        writeRunLog(runLogEntry('node', data, { node: this.id, startedAt, durationMs: event.durationMs, exit: event.reason?.code ?? null }));
        exited();
      }
    });
    local.handle = handle;
    if (local.stopWhy) handle.stop(local.stopWhy);
    await ended;
    await handle.done;
    await lastWrite;
  }
}

function capabilityOf(path: string): string | undefined {
  if (!path.startsWith(previewPrefix)) return undefined;
  const capability = path.slice(previewPrefix.length).replace(/\/$/, '');
  return capabilityPattern.test(capability) ? capability : undefined;
}
