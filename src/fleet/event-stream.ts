/**
 * The per-run event streams (contract.ts): a node appends, the owning gateway reads.
 *
 * Appending: each XADD is sent on the node's one command connection, so Redis applies them in
 * the order they were sent; the stream's order is the run's order.
 *
 * Reading: one loop per gateway, on a connection of its own (XREAD BLOCK holds it), over all of
 * that gateway's live runs at once — not one connection or one loop per run. A run added while
 * the loop is blocked wakes it with CLIENT UNBLOCK, so its first event is not held back by the
 * block timeout.
 */
import type { Redis } from 'ioredis';
import { eventField, eventStreamTtlSeconds, keys, type FleetEvent } from './contract.ts';

/** Appends one event; after `exit` the stream gets its expiry (a late reader still finds it for a while). */
export async function appendEvent(redis: Redis, runId: string, event: FleetEvent): Promise<void> {
  const key = keys.events(runId);
  const json = JSON.stringify(event);
  if (event.type === 'exit') {
    await redis.multi().xadd(key, '*', eventField, json).expire(key, eventStreamTtlSeconds).exec();
  } else {
    await redis.xadd(key, '*', eventField, json);
  }
}

export type EventSink = (event: FleetEvent) => void;

/** How long one XREAD waits for news; a new run wakes it earlier (CLIENT UNBLOCK). */
const blockMs = 1_000;
/** Entries taken per stream per read (a run with a burst of output is read in a few rounds). */
const batch = 200;

export class StreamReader {
  private readonly runs = new Map<string, { lastId: string; sink: EventSink }>();
  private blocked = false;
  private clientId: number | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly loop: Promise<void>;

  /**
   * `reader` is this reader's own connection (blocked in XREAD most of the time); `control` is
   * any other connection of the gateway, used to unblock it.
   */
  private readonly reader: Redis;
  private readonly control: Redis;
  private readonly log: (line: string) => void;

  constructor(reader: Redis, control: Redis, log: (line: string) => void = () => undefined) {
    this.reader = reader;
    this.control = control;
    this.log = log;
    // The id changes with each reconnect; CLIENT UNBLOCK needs the current one.
    const refresh = () => {
      this.clientId = undefined;
      reader.client('ID').then((id) => (this.clientId = Number(id)), () => undefined);
    };
    reader.on('ready', refresh);
    if (reader.status === 'ready') refresh();
    this.loop = this.run();
  }

  /** Starts delivering `runId`'s events, from its first, to `sink`, until its exit or `remove`. */
  add(runId: string, sink: EventSink): void {
    this.runs.set(runId, { lastId: '0-0', sink });
    this.nudge();
  }

  remove(runId: string): void {
    this.runs.delete(runId);
  }

  get size(): number {
    return this.runs.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.nudge();
    await this.loop;
  }

  private nudge(): void {
    this.wake?.();
    if (this.blocked && this.clientId !== undefined) this.control.client('UNBLOCK', this.clientId).catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.runs.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const ids = [...this.runs.keys()];
      const streamKeys = ids.map((id) => keys.events(id));
      const from = ids.map((id) => this.runs.get(id)!.lastId);
      let answer: [string, [string, string[]][]][] | null;
      try {
        this.blocked = true;
        answer = (await this.reader.xread('COUNT', batch, 'BLOCK', blockMs, 'STREAMS', ...streamKeys, ...from)) as typeof answer;
      } catch (err) {
        // Redis away: the gateway ends the runs itself (it hears the connection close); wait and try again.
        if (!this.closed) this.log(`gateway: reading run events failed: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      } finally {
        this.blocked = false;
      }
      for (const [streamKey, entries] of answer ?? []) {
        const runId = ids[streamKeys.indexOf(streamKey)]!;
        for (const [id, fields] of entries) {
          const run = this.runs.get(runId);
          if (!run) break; // removed (its page went, or it ended) while this batch was read
          run.lastId = id;
          const event = decode(fields);
          if (!event) {
            this.log(`gateway: run ${runId}: an event that is not JSON was skipped`);
            continue;
          }
          if (event.type === 'exit') this.runs.delete(runId);
          run.sink(event);
        }
      }
    }
  }
}

function decode(fields: string[]): FleetEvent | undefined {
  const at = fields.indexOf(eventField);
  if (at < 0 || at % 2 !== 0) return undefined;
  try {
    const value = JSON.parse(fields[at + 1]!) as FleetEvent;
    return value && typeof value === 'object' && typeof value.type === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
