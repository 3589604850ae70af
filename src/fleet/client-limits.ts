/**
 * Per-client limits of the public gateway, shared by every gateway through the fleet's Redis, so a
 * reader whose connections land on different gateways still has one quota (issue 18):
 *   - concurrent runs (ASYNCLAB_RUNS_PER_CLIENT, default 2): queued or running, held from `run`
 *     until its `exit`. This is also what makes the queue fair: one client never has more than this
 *     many jobs in it, however fast it sends.
 *   - runs per minute (ASYNCLAB_RUNS_PER_MINUTE, default 20): a fixed one-minute window.
 *   - open connections (ASYNCLAB_CONNECTIONS_PER_CLIENT, default 4): held while a WebSocket is open.
 * A refusal is the protocol's `rate-limit` reason with the limit, the English detail and when to retry.
 *
 * The counting is rate-limiter-flexible's RateLimiterRedis (atomic Lua in Redis, keys with a TTL):
 * the per-minute window is its stock fixed window. The two "held" limits are counters of holds
 * that go up on acquire and down on release, which a fixed window does not quite do, so they use
 * the library's documented `customIncrTtlLuaScript` hook with a script that differs from the stock
 * one in three ways (and nothing else is ours: keys, prefixes, the rejection path are the library's):
 *   1. a refused acquire is not counted (the stock window counts every attempt, which would lock a
 *      client out for the whole lease after one retry too many);
 *   2. a release never takes the count below zero (a release after the key expired, or after a
 *      Redis restart emptied it, must not hand the client an extra slot);
 *   3. every change, and every renewal, resets the key's TTL to the lease.
 * Why a lease: a gateway that dies (SIGKILL, a lost machine) never releases what it held. Each
 * live gateway renews the keys of the clients it holds for every lease/3; a key nobody renews
 * expires one lease after its last change, so a dead gateway's holds are healed at most a lease
 * after the client's last live hold ended. The lease does not cap a run's length: a live gateway
 * keeps renewing it for as long as the run lasts.
 * Double release is harmless twice over: each Hold releases once (local flag), and (2) above.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { reason, type Reason } from '../protocol/reasons.ts';
import { fleetPrefix } from './contract.ts';

export type LimitKind = 'runs-per-minute' | 'concurrent-runs' | 'connections';

export interface ClientLimitsConfig {
  /** Runs one client may have queued or running at once. */
  concurrentRuns: number;
  /** Runs one client may start in a one-minute window. */
  runsPerMinute: number;
  /** WebSocket connections one client may have open at once. */
  connections: number;
  /** How long a hold survives its gateway: renewed every third of it while the gateway lives. */
  leaseSeconds: number;
  /** The retry hint for a held limit: when a run or tab of the client's will have ended is not known. */
  holdRetrySeconds: number;
}

export const defaultClientLimits: ClientLimitsConfig = {
  concurrentRuns: 2,
  runsPerMinute: 20,
  connections: 4,
  leaseSeconds: 30,
  holdRetrySeconds: 5,
};

/** A whole number from 1 to 10 000 from the environment, or a startup error naming the variable. */
function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= 10_000)) throw new Error(`${name} must be a whole number from 1 to 10000 (got ${JSON.stringify(raw.slice(0, 40))})`);
  return value;
}

/** The limits from ASYNCLAB_RUNS_PER_CLIENT, ASYNCLAB_RUNS_PER_MINUTE and ASYNCLAB_CONNECTIONS_PER_CLIENT. */
export function clientLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientLimitsConfig {
  return {
    ...defaultClientLimits,
    concurrentRuns: positiveInt(env, 'ASYNCLAB_RUNS_PER_CLIENT', defaultClientLimits.concurrentRuns),
    runsPerMinute: positiveInt(env, 'ASYNCLAB_RUNS_PER_MINUTE', defaultClientLimits.runsPerMinute),
    connections: positiveInt(env, 'ASYNCLAB_CONNECTIONS_PER_CLIENT', defaultClientLimits.connections),
  };
}

/** Something a client holds (a run slot, a connection slot) until it releases it. */
export interface Hold {
  readonly id: string;
  readonly limit: Exclude<LimitKind, 'runs-per-minute'>;
  readonly client: string;
  /** Gives the slot back. Idempotent: the second and later calls do nothing. Never throws. */
  release(): Promise<void>;
}

export type Admission = { ok: true; hold: Hold } | { ok: false; reason: Reason };

/**
 * The held-count script (see the module comment). Arguments as RateLimiterRedis passes them to
 * every custom script: KEYS[1] the key, ARGV[1] the change (+n acquire, −n release, 0 renew),
 * ARGV[2] the duration in seconds (our lease), ARGV[3] the limit. Returns {count, ttl ms} like the
 * stock script; a refused acquire returns count+n (over the limit, so the library rejects it)
 * without storing it.
 */
const heldCountScript = `
local held = tonumber(redis.call('get', KEYS[1]) or '0') or 0
local change = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
if change > 0 and held + change > tonumber(ARGV[3]) then
  local ttl = redis.call('pttl', KEYS[1])
  if ttl < 0 then ttl = lease * 1000 end
  return {held + change, ttl}
end
if change == 0 then
  if held > 0 then redis.call('expire', KEYS[1], lease) end
  return {held, lease * 1000}
end
held = math.max(held + change, 0)
if held == 0 then
  redis.call('del', KEYS[1])
else
  redis.call('set', KEYS[1], held, 'EX', lease)
end
return {held, lease * 1000}
`;

/** English details of a refusal (the page words its own language from `limit`). */
function refusalDetail(limit: LimitKind, max: number): string {
  if (limit === 'concurrent-runs') return `you already have ${max} runs queued or running, the most one reader may have at once`;
  if (limit === 'runs-per-minute') return `you started ${max} runs in the last minute, the most one reader may`;
  return `you already have ${max} connections to the runner open (other tabs or windows), the most one reader may`;
}

function refusal(limit: LimitKind, max: number, retrySeconds: number): Reason {
  return reason('rate-limit', { limit, max, detail: refusalDetail(limit, max), retrySeconds: Math.max(1, Math.ceil(retrySeconds)) });
}

/** The store failed (Redis down or restarting): the gateway cannot take runs anyway; say so now, never hang. */
function unavailable(): Reason {
  return reason('fleet-unavailable', { detail: 'its shared store does not answer' });
}

export class ClientLimits {
  readonly config: ClientLimitsConfig;
  /** Redis connections of our own: rate-limiter-flexible defines its script as a command on the client, one script per client. */
  private readonly heldClient: Redis;
  private readonly windowClient: Redis;
  private readonly runs: RateLimiterRedis;
  private readonly connections: RateLimiterRedis;
  private readonly perMinute: RateLimiterRedis;
  /** This gateway's live holds, for renewal; a hold leaves it on release. */
  private readonly holds = new Map<string, { limiter: RateLimiterRedis; client: string }>();
  private readonly renewTimer: NodeJS.Timeout;

  private constructor(redis: Redis, config: ClientLimitsConfig) {
    this.config = config;
    // No offline queue: while Redis is away a check fails at once (refused as fleet-unavailable) instead of waiting.
    this.heldClient = redis.duplicate({ enableOfflineQueue: false });
    this.windowClient = redis.duplicate({ enableOfflineQueue: false });
    // Connection errors surface as each check's failure (fleet-unavailable) and ioredis reconnects by
    // itself; without a listener it would also print every reconnection attempt as "unhandled".
    for (const client of [this.heldClient, this.windowClient]) client.on('error', () => undefined);
    const held = { storeClient: this.heldClient, duration: config.leaseSeconds, customIncrTtlLuaScript: heldCountScript };
    this.runs = new RateLimiterRedis({ ...held, keyPrefix: `${fleetPrefix}:limit:runs`, points: config.concurrentRuns });
    this.connections = new RateLimiterRedis({ ...held, keyPrefix: `${fleetPrefix}:limit:connections`, points: config.connections });
    this.perMinute = new RateLimiterRedis({
      storeClient: this.windowClient,
      keyPrefix: `${fleetPrefix}:limit:runs-per-minute`,
      points: config.runsPerMinute,
      duration: 60,
    });
    this.renewTimer = setInterval(() => void this.renew(), Math.max(200, (config.leaseSeconds * 1000) / 3));
    this.renewTimer.unref();
  }

  /** Opens the limiter's own connections (duplicates of `redis`'s settings) and waits until they are ready. */
  static async open(redis: Redis, config: ClientLimitsConfig = defaultClientLimits): Promise<ClientLimits> {
    const limits = new ClientLimits(redis, config);
    const ready = (client: Redis) => (client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('end', () => reject(new Error('the Redis connection for client limits closed before it was ready')));
    }));
    try {
      await Promise.all([ready(limits.heldClient), ready(limits.windowClient)]);
    } catch (err) {
      await limits.close();
      throw err;
    }
    return limits;
  }

  /**
   * Admits one run of `client` (its salted hash): a concurrent-run slot, then one of the minute's
   * runs. The slot is taken first, so a client refused for running too many at once does not also
   * spend its minute's allowance. Release the hold when the run's `exit` is sent.
   */
  async admitRun(client: string): Promise<Admission> {
    const slot = await this.acquire(this.runs, client, 'concurrent-runs', this.config.concurrentRuns);
    if (!slot.ok) return slot;
    try {
      await this.perMinute.consume(client);
      return slot;
    } catch (err) {
      await slot.hold.release();
      if (err instanceof RateLimiterRes) return { ok: false, reason: refusal('runs-per-minute', this.config.runsPerMinute, err.msBeforeNext / 1000) };
      return { ok: false, reason: unavailable() };
    }
  }

  /** Admits one open connection of `client`; release the hold when the socket closes. */
  admitConnection(client: string): Promise<Admission> {
    return this.acquire(this.connections, client, 'connections', this.config.connections);
  }

  /** What the fleet counts for `client` now (all gateways), for tests and diagnostics. */
  async held(client: string): Promise<{ runs: number; connections: number; runsThisMinute: number }> {
    const [runs, connections, minute] = await Promise.all([this.runs.get(client), this.connections.get(client), this.perMinute.get(client)]);
    return { runs: runs?.consumedPoints ?? 0, connections: connections?.consumedPoints ?? 0, runsThisMinute: minute?.consumedPoints ?? 0 };
  }

  /** Holds this gateway has not released. */
  get localHolds(): number {
    return this.holds.size;
  }

  /**
   * Stops renewing and closes the limiter's connections. Holds still open are not released: as
   * with a gateway that dies, their lease runs out (a gateway that drains releases them first).
   */
  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    this.holds.clear();
    await Promise.allSettled([this.heldClient.quit(), this.windowClient.quit()]);
    this.heldClient.disconnect();
    this.windowClient.disconnect();
  }

  private async acquire(limiter: RateLimiterRedis, client: string, limit: Hold['limit'], max: number): Promise<Admission> {
    try {
      await limiter.consume(client);
    } catch (err) {
      if (err instanceof RateLimiterRes) return { ok: false, reason: refusal(limit, max, this.config.holdRetrySeconds) };
      return { ok: false, reason: unavailable() };
    }
    const id = randomUUID();
    this.holds.set(id, { limiter, client });
    let released = false;
    const hold: Hold = {
      id,
      limit,
      client,
      release: async () => {
        if (released) return;
        released = true;
        this.holds.delete(id);
        try {
          await limiter.reward(client);
        } catch {
          // Redis is away: the hold is no longer renewed, so its lease heals the count.
        }
      },
    };
    return { ok: true, hold };
  }

  /** Resets the lease of every key this gateway holds something under (one call per client and limit). */
  private async renew(): Promise<void> {
    const seen = new Set<string>();
    const renewals: Promise<unknown>[] = [];
    for (const { limiter, client } of this.holds.values()) {
      const key = limiter.getKey(client);
      if (seen.has(key)) continue;
      seen.add(key);
      renewals.push(limiter.penalty(client, 0));
    }
    // A failed renewal (Redis away) is not an error here: the lease is what heals that case.
    await Promise.allSettled(renewals);
  }
}
