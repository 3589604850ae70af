/**
 * The fleet's private Redis for `npm run fleet` and the tests: the pinned runtime root's
 * redis-server (the same Debian release the per-run services use, never the host's), run under
 * bubblewrap with no network, listening only on a Unix socket in a directory of our own. In
 * production Redis is the operator's (REDIS_URL); this one exists so the fleet can be tried and
 * tested on one machine with nothing installed by hand.
 *
 * BullMQ needs `maxmemory-policy noeviction` (an evicted job key would corrupt the queue), and
 * nothing is persisted: a restarted fleet Redis starts empty, which the fault tests rely on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findProgram } from '../runtime/programs.ts';
import { cacheBase, loadSpec, locate, readReport } from '../runtime/spec.ts';
import { inRootArgv } from '../runtime/system-root.ts';

export interface FleetRedis {
  /** The Unix socket; ioredis: `new Redis({ path: socket })`. */
  readonly socket: string;
  /** The same as a URL the fleet's processes take from REDIS_URL. */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  stop(): Promise<void>;
  /** Stops it and starts a fresh, empty one on the same socket (the tests' "Redis restarted"). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

const maxMemory = '256mb';

/** Where the runtime root's redis-server is, or why it cannot be used. */
export function fleetRedisCommand(socket: string): { argv: string[] } | { problem: string } {
  const { spec, hash } = loadSpec();
  const location = locate(hash, cacheBase());
  if (!readReport(location) || !existsSync(path.join(location.root, 'usr', 'bin', 'redis-server'))) {
    return { problem: `the sandbox runtime (${spec.release}) with redis-server is not built at ${location.dir}: run npm start once, or node_modules/.bin/node src/runtime/build.ts` };
  }
  const bwrap = findProgram('bwrap');
  if (!bwrap) return { problem: 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap' };
  const dir = path.dirname(socket);
  const args = [
    '/usr/bin/redis-server',
    '--port', '0',
    '--unixsocket', socket,
    '--unixsocketperm', '700',
    '--save', '',
    '--appendonly', 'no',
    '--maxmemory', maxMemory,
    '--maxmemory-policy', 'noeviction',
    '--dir', dir,
  ];
  return { argv: inRootArgv(bwrap, location.root, args, [dir]) };
}

/** Starts the fleet's Redis in a fresh private directory and waits until it answers. */
export async function startFleetRedis(log: (line: string) => void = () => undefined): Promise<FleetRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'asynclab-fleet-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const command = fleetRedisCommand(socket);
  if ('problem' in command) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`The fleet's Redis cannot start: ${command.problem}`);
  }
  let child: ChildProcess | undefined;
  const start = async () => {
    await rm(socket, { force: true });
    const [program, ...args] = command.argv;
    const proc = spawn(program!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child = proc;
    await waitForSocket(socket, proc, () => stderr);
    log(`fleet: Redis listening on ${socket}`);
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    socket,
    url: `redis+socket://${socket}`,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the socket accepts a PING; rejects with the server's last words if it exits first. */
async function waitForSocket(socket: string, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`The fleet's Redis exited at start: ${stderr().trim().split('\n').slice(-3).join(' | ') || `code ${proc.exitCode}`}`);
    }
    if (await pings(socket)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`The fleet's Redis did not answer on ${socket} within 15 s`);
}

function pings(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = connect(socket);
    const done = (ok: boolean) => {
      conn.destroy();
      resolve(ok);
    };
    conn.once('error', () => done(false));
    conn.once('connect', () => conn.write('PING\r\n'));
    conn.once('data', (data) => done(data.toString().startsWith('+PONG')));
    conn.setTimeout(1_000, () => done(false));
  });
}

/** ioredis options for a REDIS_URL: `redis+socket:///path/to.sock` (a Unix socket) or `redis://host:port`. */
export function redisConnectionOptions(url: string): { path: string } | { url: string } {
  if (url.startsWith('redis+socket://')) return { path: url.slice('redis+socket://'.length) };
  if (/^rediss?:\/\//.test(url)) return { url };
  throw new Error(`REDIS_URL must be redis://…, rediss://… or redis+socket:///path (got ${JSON.stringify(url.slice(0, 60))})`);
}
