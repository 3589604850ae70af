/**
 * A shared Redis server for the runs that need one: the `redis` account (never root),
 * a Unix socket only (port 0), nothing persisted, one database. The default user is
 * switched off; the runner administers it as its own ACL user, and each run gets an ACL
 * user of its own, confined to keys and channels under a random prefix and to commands
 * that cannot reach other runs' data or the server's state. When the run ends, the user
 * is deleted (Redis disconnects its clients) and every key under the prefix unlinked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile, chown } from 'node:fs/promises';
import path from 'node:path';
import { RespClient } from './resp.ts';
import { executable, privateDir, serviceAccount, setprivPath, startServer, sweepAbandoned, waitUntil, type ServerProcess, type ServiceSystem } from './service-process.ts';
import { ServiceUnavailableError, type PathView, type ServiceAttachment } from './types.ts';
import { ServerService } from './server-service.ts';

export interface RedisOptions {
  /** The redis-server binary as the server sees it; default /usr/bin/redis-server. */
  binary?: string;
  /** The runtime root the server runs in; absent: the host's. */
  system?: ServiceSystem | undefined;
}

/** Where a sandbox finds the socket: Debian's conventional path. */
export const redisSocketInside = '/run/redis/redis-server.sock';
const adminUser = 'asynclab-admin';
/** Shared by all runs at once; writes fail with OOM past it rather than evicting anyone's keys. */
const maxMemory = '128mb';

/**
 * What a run's user may do, besides its keys (`~prefix*`) and channels (`&prefix*`).
 * `-@dangerous` (with `-@admin`) removes FLUSHALL, FLUSHDB, KEYS, CONFIG, ACL (but WHOAMI),
 * DEBUG, SHUTDOWN, MODULE, MONITOR, INFO, SORT, MIGRATE, SWAPDB, CLIENT LIST/KILL… What
 * that still leaves, and would reach past the prefix, goes too:
 *   @scripting   SCRIPT FLUSH/KILL and FUNCTION FLUSH/LOAD/DELETE act on the whole server;
 *                a Lua busy loop would stall everyone.
 *   SCAN, RANDOMKEY, DBSIZE   list or count every run's keys (key patterns do not filter them).
 *   PUBSUB       lists every run's channels and subscriber counts.
 *   MEMORY       server-wide stats and purge; MEMORY USAGE of one's own key stays.
 *   CLIENT       TRACKING (BCAST) and friends; naming and inspecting one's own connection stays.
 */
export const runCommandRules = [
  '+@all',
  '-@dangerous',
  '-@admin',
  '-@scripting',
  '-scan',
  '-randomkey',
  '-dbsize',
  '-pubsub',
  '-memory',
  '+memory|usage',
  '-client',
  '+client|setname',
  '+client|getname',
  '+client|id',
  '+client|info',
] as const;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function startRedis(options: RedisOptions = {}): Promise<Redis> {
  const unavailable = (detail: string) => new ServiceUnavailableError('redis', detail);
  const binary = options.binary ?? '/usr/bin/redis-server';
  const system = options.system;
  if (!executable(path.join(system?.root ?? '/', binary))) {
    throw unavailable(`${system ? `the sandbox runtime at ${system.root} has` : 'this machine has'} no Redis server (no ${binary})`);
  }
  if (!executable(setprivPath)) throw unavailable('setpriv is missing (apt-get install util-linux)');
  const account = serviceAccount(['redis']);
  if (!account) throw unavailable('no unprivileged account to run it as');

  const started = performance.now();
  await sweepAbandoned('redis');
  const dir = await privateDir('redis', account);
  const socket = path.join(dir, 'redis.sock');
  const adminPassword = randomBytes(32).toString('base64url');
  let server: ServerProcess | undefined;
  let admin: RespClient | undefined;
  try {
    // Passwords are given as SHA-256 hashes (`#…`): the clear text is in no file and no argv.
    const config = [
      'port 0',
      `unixsocket ${socket}`,
      'unixsocketperm 777', // the directory (0710, group root) keeps host users out; sandboxes come in through a bind mount
      `dir ${dir}`,
      'daemonize no',
      'save ""',
      'appendonly no',
      'databases 1', // SELECT, MOVE and COPY … DB cannot lead anywhere else
      `maxmemory ${maxMemory}`,
      'maxmemory-policy noeviction',
      'maxclients 1000',
      'loglevel warning',
      'logfile ""',
      'always-show-logo no',
      'user default reset off',
      `user ${adminUser} on #${sha256(adminPassword)} ~* &* +@all`,
      '',
    ].join('\n');
    const configFile = path.join(dir, 'redis.conf');
    await writeFile(configFile, config, { mode: 0o600 });
    if (process.getuid?.() === 0) await chown(configFile, account.uid, account.gid);
    server = startServer(account, [binary, configFile], { cwd: dir, deathSignal: 'SIGTERM', system });
    const up = server;
    await waitUntil(
      up,
      async () => {
        const client = await RespClient.connect(socket);
        try {
          await client.command('AUTH', adminUser, adminPassword);
          await client.command('PING');
          admin = client;
          return true;
        } catch (err) {
          client.close();
          throw err;
        }
      },
      15_000,
    );
    return new Redis({ dir, socket, server: up, admin: admin!, startMs: Math.round(performance.now() - started) });
  } catch (err) {
    admin?.close();
    await server?.stop('SIGKILL', 1000);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err instanceof ServiceUnavailableError ? err : unavailable(`it did not start: ${(err as Error).message}`);
  }
}

interface RedisParts {
  dir: string;
  socket: string;
  server: ServerProcess;
  /** One long-lived admin connection: a run that opens maxclients connections cannot lock the runner out. */
  admin: RespClient;
  startMs: number;
}

export class Redis extends ServerService {
  readonly name = 'redis' as const;
  private readonly parts: RedisParts;

  constructor(parts: RedisParts) {
    super(parts.server, parts.startMs);
    this.parts = parts;
  }

  /** A command on the admin connection, for the runner and its tests. */
  command(...args: string[]) {
    return this.parts.admin.command(...args);
  }

  async attach(view: PathView): Promise<ServiceAttachment> {
    const id = randomBytes(8).toString('hex');
    const user = `run-${id}`;
    // Hex and ':' only: no glob character, so `prefix*` matches exactly the run's keys.
    const prefix = `run:${id}:`;
    const password = randomBytes(32).toString('base64url');
    await this.command('ACL', 'SETUSER', user, 'reset', 'on', `#${sha256(password)}`, `~${prefix}*`, `&${prefix}*`, ...runCommandRules);
    const socket = view === 'sandbox' ? redisSocketInside : this.parts.socket;
    return {
      env: {
        REDIS_URL: `unix://${user}:${encodeURIComponent(password)}@${socket}`,
        REDIS_PREFIX: prefix,
      },
      mounts: view === 'sandbox' ? [{ host: this.parts.socket, inside: redisSocketInside }] : [],
      release: this.releaseOnce(async () => {
        // Deleting the user disconnects its clients, so nothing writes while we sweep.
        await this.command('ACL', 'DELUSER', user);
        let cursor = '0';
        do {
          const reply = (await this.command('SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000')) as [string, string[]];
          cursor = reply[0];
          if (reply[1].length) await this.command('UNLINK', ...reply[1]);
        } while (cursor !== '0');
      }),
    };
  }

  protected async shutDown(): Promise<void> {
    this.parts.admin.close();
    // SIGTERM: Redis exits at once (nothing to save); SIGKILL if it hangs.
    await this.parts.server.stop('SIGTERM', 3000);
    await rm(this.parts.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
