/**
 * The ioredis connections of a fleet process, all made the same way from REDIS_URL. ioredis
 * reconnects by itself (forever, with a capped back-off), which is how a node or a gateway rejoins
 * a restarted Redis without being restarted. BullMQ's own connections need
 * `maxRetriesPerRequest: null` (its blocking commands must wait out a reconnect, not fail).
 */
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { redisConnectionOptions } from './redis-server.ts';

/** Back-off between reconnect attempts: quick at first (a restart takes well under a second), capped at 1 s. */
const retryStrategy = (times: number) => Math.min(50 * times, 1_000);

/** Options for BullMQ (Queue, Worker): it makes its own connections from them. */
export function bullConnection(redisUrl: string): BullRedisOptions {
  const base = redisConnectionOptions(redisUrl);
  const options: BullRedisOptions = { maxRetriesPerRequest: null, retryStrategy };
  return 'path' in base ? { ...options, path: base.path } : { ...options, ...urlOptions(base.url) };
}

/**
 * A plain command connection. `offline: false` makes commands fail at once while Redis is away
 * (a node must not queue a lost run's events for a Redis that comes back empty); the default
 * queues them for the reconnect, with ioredis's own per-request retry limit.
 */
export function commandConnection(redisUrl: string, name: string, { offline = true }: { offline?: boolean } = {}): Redis {
  const base = redisConnectionOptions(redisUrl);
  const options: RedisOptions = { connectionName: name, retryStrategy, enableOfflineQueue: offline, maxRetriesPerRequest: offline ? 3 : 0 };
  return 'path' in base ? new Redis({ ...options, path: base.path }) : new Redis(base.url, options);
}

function urlOptions(url: string): BullRedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Resolves once the connection is ready (or rejects after `ms`). */
export function whenReady(redis: Redis, ms = 15_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis did not answer within ${ms / 1000} s`));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
