/**
 * A Redis server of its own for every run that needs one: the `redis` account (never
 * root), inside the run's cgroup, a Unix socket only (port 0), nothing persisted, one
 * database, a small `maxmemory` of its own. The default user is switched off; the runner
 * administers it as its own ACL user, and the run gets an ACL user confined to keys and
 * channels under a prefix and to commands that neither act on the server as a whole nor
 * allocate without bound. The server (and everything in it) ends with the run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile, chown } from 'node:fs/promises';
import path from 'node:path';
import { RespClient } from './resp.ts';
import { executable, privateDir, serviceAccount, setprivPath, startServer, waitUntil, type Account, type ServerProcess, type ServiceSystem } from './service-process.ts';
import { ServiceUnavailableError, type ServicePlacement } from './types.ts';
import { ServerService, type ServerParts } from './server-service.ts';

export interface RedisOptions {
  /** The redis-server binary as the server sees it; default /usr/bin/redis-server. */
  binary?: string;
  /** The runtime root the server runs in; absent: the host's. */
  system?: ServiceSystem | undefined;
}

/** Where a sandbox finds the socket: Debian's conventional path. */
export const redisSocketInside = '/run/redis/redis-server.sock';
const adminUser = 'asynclab-admin';
const MiB = 1024 * 1024;

/**
 * What one run's server allows (the run's cgroup bounds the rest). Past `maxMemoryBytes`
 * writes fail with OOM rather than evicting the run's keys; client buffers (a pipeline
 * never read, a huge reply) are bounded apart from the data and evict the client that
 * holds them; one value, argument or string may not exceed `bulkBytes`.
 */
export const redisLimits = {
  maxMemoryBytes: 32 * MiB,
  clientMemoryBytes: 16 * MiB,
  bulkBytes: 8 * MiB,
  clients: 64,
} as const;

/** Processes and threads the server adds to the run's pids budget (main, 3 bio threads, jemalloc's, bubblewrap's two). */
export const redisProcesses = 10;

/**
 * Redis 8's vector-set module commands, denied after start for those the server has (an ACL
 * rule naming a command a server lacks, e.g. Redis 7's, would stop it from starting).
 */
export const vectorSetCommands = ['vadd', 'vsim', 'vrem', 'vcard', 'vdim', 'vemb', 'vgetattr', 'vsetattr', 'vinfo', 'vlinks', 'vrandmember', 'vismember'] as const;

/**
 * What a run's user may do, besides its keys (`~prefix*`) and channels (`&prefix*`).
 * `-@dangerous` (with `-@admin`) removes FLUSHALL, FLUSHDB, KEYS, CONFIG, ACL (but WHOAMI),
 * DEBUG, SHUTDOWN, MODULE, MONITOR, INFO, SORT, MIGRATE, SWAPDB, CLIENT LIST/KILL… What
 * that still leaves, and would reach past the prefix, goes too (written when runs shared one
 * server; with a server per run it only keeps the run to the same commands as before):
 *   @scripting   SCRIPT FLUSH/KILL and FUNCTION FLUSH/LOAD/DELETE act on the whole server;
 *                a Lua busy loop would stall everyone.
 *   SCAN, RANDOMKEY, DBSIZE   list or count every run's keys (key patterns do not filter them).
 *   PUBSUB       lists every run's channels and subscriber counts.
 *   MEMORY       server-wide stats and purge; MEMORY USAGE of one's own key stays.
 *   CLIENT       TRACKING (BCAST) and friends; naming and inspecting one's own connection stays.
 * And what allocates outside `maxmemory`, or blocks the server, in proportion to what the
 * run asks rather than to what it stores:
 *   LCS          a table of len(a) x len(b) cells: two 8,000-character strings took 236 MiB.
 *   SRANDMEMBER, HRANDFIELD, ZRANDMEMBER   a negative count repeats members without bound:
 *                `SRANDMEMBER k -3000000` on a one-member set filled the run's 512 MiB.
 *   V*           Redis 8's built-in vector sets (no ACL category, so +@all had them;
 *                see vectorSetCommands):
 *                `VADD k REDUCE 2000 FP32 <80 KB>` built a 160 MiB projection in 0.9 s.
 * (The run has its server to itself, so a slow command only slows the run; the cgroup
 * bounds memory that `maxmemory` does not count.)
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
  '-lcs',
  '-srandmember',
  '-hrandfield',
  '-zrandmember',
] as const;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The redis-server binary, or throws ServiceUnavailableError saying why not. */
function checkRedis(options: RedisOptions): { binary: string; account: Account } {
  const binary = options.binary ?? '/usr/bin/redis-server';
  const system = options.system;
  if (!executable(path.join(system?.root ?? '/', binary))) {
    throw unavailable(`${system ? `the sandbox runtime at ${system.root} has` : 'this machine has'} no Redis server (no ${binary})`);
  }
  if (!executable(setprivPath)) throw unavailable('setpriv is missing (apt-get install util-linux)');
  const account = serviceAccount(['redis']);
  if (!account) throw unavailable('no unprivileged account to run it as');
  return { binary, account };
}

const unavailable = (detail: string) => new ServiceUnavailableError('redis', detail);

/** A server for one run, inside `placement`'s cgroup, with the run's user already in its configuration. */
export async function startRedis(options: RedisOptions, placement: ServicePlacement): Promise<Redis> {
  const { binary, account } = checkRedis(options);
  const started = performance.now();
  const dir = await privateDir('redis', account);
  const socket = path.join(dir, 'redis.sock');
  const adminPassword = randomBytes(32).toString('base64url');
  const id = randomBytes(8).toString('hex');
  const user = `run-${id}`;
  // Hex and ':' only: no glob character, so `prefix*` matches exactly the run's keys.
  const prefix = `run:${id}:`;
  const password = randomBytes(32).toString('base64url');
  let server: ServerProcess | undefined;
  let admin: RespClient | undefined;
  try {
    // Passwords are given as SHA-256 hashes (`#…`): the clear text is in no file and no argv.
    const config = [
      'port 0',
      `unixsocket ${socket}`,
      'unixsocketperm 777', // the directory (0710, group root) keeps host users out; the sandbox comes in through a bind mount
      `dir ${dir}`,
      'daemonize no',
      'save ""',
      'appendonly no',
      'databases 1', // SELECT, MOVE and COPY … DB cannot lead anywhere else
      `maxmemory ${redisLimits.maxMemoryBytes}`,
      'maxmemory-policy noeviction',
      `maxmemory-clients ${redisLimits.clientMemoryBytes}`,
      `proto-max-bulk-len ${redisLimits.bulkBytes}`,
      `client-query-buffer-limit ${redisLimits.bulkBytes}`,
      `maxclients ${redisLimits.clients}`,
      'io-threads 1',
      'loglevel warning',
      'logfile ""',
      'always-show-logo no',
      'user default reset off',
      `user ${adminUser} on #${sha256(adminPassword)} ~* &* +@all`,
      `user ${user} reset on #${sha256(password)} ~${prefix}* &${prefix}* ${runCommandRules.join(' ')}`,
      '',
    ].join('\n');
    const configFile = path.join(dir, 'redis.conf');
    await writeFile(configFile, config, { mode: 0o600 });
    if (process.getuid?.() === 0) await chown(configFile, account.uid, account.gid);
    server = startServer(account, [binary, configFile], { cwd: dir, deathSignal: 'SIGTERM', system: options.system, cgroupProcs: placement.cgroupProcs });
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
    const present = ((await admin!.command('COMMAND', 'INFO', ...vectorSetCommands)) as unknown[]).flatMap((info, i) => (info ? [vectorSetCommands[i]!] : []));
    if (present.length) await admin!.command('ACL', 'SETUSER', user, ...present.map((c) => `-${c}`));
    const seen = placement.view === 'sandbox' ? redisSocketInside : socket;
    return new Redis({
      server: up,
      dir,
      admin: admin!,
      startMs: Math.round(performance.now() - started),
      env: { REDIS_URL: `unix://${user}:${encodeURIComponent(password)}@${seen}`, REDIS_PREFIX: prefix },
      mounts: placement.view === 'sandbox' ? [{ host: socket, inside: redisSocketInside }] : [],
    });
  } catch (err) {
    admin?.close();
    await server?.stop('SIGKILL', 1000);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err instanceof ServiceUnavailableError ? err : unavailable(`it did not start: ${(err as Error).message}`);
  }
}

export class Redis extends ServerService {
  readonly name = 'redis' as const;
  /** One connection the runner opened first: a run that opens maxclients connections cannot lock it out. */
  private readonly admin: RespClient;

  constructor(parts: ServerParts & { admin: RespClient }) {
    super(parts);
    this.admin = parts.admin;
  }

  /** A command on the admin connection, for the runner's tests. */
  command(...args: string[]) {
    return this.admin.command(...args);
  }

  protected async shutDown(): Promise<void> {
    this.admin.close();
    // SIGTERM: Redis exits at once (nothing to save); SIGKILL if it hangs.
    await this.server.stop('SIGTERM', 2000);
  }
}
