/**
 * The fleet's global back-pressure: the run queue is bounded (ASYNCLAB_QUEUE_MAX, default 200).
 *
 * Why a bound at all: a queue that grows without limit turns a traffic spike into runs that wait
 * minutes and then time out in the reader's face, and into Redis memory that grows with strangers'
 * source files. Beyond the bound a run is refused at once as `busy`, with an estimate of when there
 * will be room, so the page can say "try again in N s" instead of leaving the reader hanging.
 *
 * The estimate: jobs leave the queue as fast as the fleet finishes runs, about capacity / typical
 * run time per second, and the queue must shrink by (waiting − max + 1) before a new run fits.
 */
import { reason, type Reason } from '../protocol/reasons.ts';

export const defaultQueueMax = 200;

/** ASYNCLAB_QUEUE_MAX: a whole number from 1 to 100 000, or a startup error that names it. */
export function queueMaxFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ASYNCLAB_QUEUE_MAX?.trim();
  if (raw === undefined || raw === '') return defaultQueueMax;
  const value = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= 100_000)) throw new Error(`ASYNCLAB_QUEUE_MAX must be a whole number from 1 to 100000 (got ${JSON.stringify(raw.slice(0, 40))})`);
  return value;
}

export interface QueueState {
  /** Jobs waiting for a node (BullMQ's waiting + prioritized). */
  waiting: number;
  /** Jobs a node is running. */
  running: number;
  /** Runs the live nodes take at once (the sum of their pool sizes); 0 when no node is alive. */
  capacity: number;
}

export interface BackPressureOptions {
  queueMax: number;
  /** A typical run's length in seconds (e.g. a recent mean); the default suits the course's sandboxes. */
  typicalRunSeconds?: number;
  /** Retry hint when no node is alive, so nothing drains the queue. */
  noCapacityRetrySeconds?: number;
}

export type QueueAdmission = { ok: true } | { ok: false; reason: Reason };

/** Whether one more run fits in the queue; if not, `busy` with the queue's state and a retry time. */
export function admitToQueue(state: QueueState, options: BackPressureOptions): QueueAdmission {
  if (state.waiting < options.queueMax) return { ok: true };
  const typical = options.typicalRunSeconds ?? 5;
  const excess = state.waiting - options.queueMax + 1;
  const retrySeconds = state.capacity > 0 ? (excess * typical) / state.capacity : (options.noCapacityRetrySeconds ?? 30);
  return {
    ok: false,
    reason: reason('busy', { running: state.running, queued: state.waiting, retrySeconds: Math.min(600, Math.max(1, Math.ceil(retrySeconds))) }),
  };
}

/** The part of a BullMQ Queue this module reads (so tests and the gateway can hand in the real one). */
export interface QueueCounts {
  getJobCounts(...types: ('waiting' | 'prioritized' | 'active')[]): Promise<Record<string, number>>;
}

/** The queue's waiting and running counts from BullMQ, in one round trip; `capacity` comes from the nodes' heartbeats. */
export async function readQueueState(queue: QueueCounts, capacity: number): Promise<QueueState> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active');
  return { waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0), running: counts['active'] ?? 0, capacity };
}
