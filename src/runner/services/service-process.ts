/**
 * Running a service's programs as an unprivileged account, tied to the runner's life.
 * Every program goes through `setpriv`: it drops to the account (when the runner is
 * root) and sets the parent-death signal, so a server dies with the runner even when
 * the runner itself is SIGKILLed and never gets to stop it. No shell, no interpolation:
 * argv arrays only, and an environment with nothing of the runner's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { etcFilesFor, etcMountPoints, rootedArgs } from '../../runtime/system-root.ts';
import { isAlive } from '../../runtime/programs.ts';

export const setprivPath = '/usr/bin/setpriv';

/**
 * Where a service's programs come from: the pinned runtime root, entered through
 * bubblewrap (run as the service's account, so unprivileged: its own user namespace maps
 * that account to itself, and the files it writes belong to it on the host too).
 */
export interface ServiceSystem {
  bwrap: string;
  root: string;
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

const serviceEnv = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

/**
 * The account a service runs as: as root, the first of `names` that exists (the service's
 * own system user, e.g. `postgres`), else `nobody`; as anyone else, that user itself.
 */
export function serviceAccount(names: readonly string[]): Account | undefined {
  if (process.getuid?.() !== 0) {
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid };
  }
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const entries = new Map(
    passwd
      .split('\n')
      .map((line) => line.split(':'))
      .filter((f) => f.length >= 4)
      .map((f) => [f[0]!, { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }] as const),
  );
  for (const name of [...names, 'nobody']) {
    const entry = entries.get(name);
    if (entry && entry.uid !== 0) return entry;
  }
  return undefined;
}

/**
 * `argv` inside the runtime root: its /usr as the system, an /etc that knows only the
 * account, the service's private folder (`dir`) at the same path as on the host, no
 * network (the servers listen on Unix sockets only) and its own PID namespace, so
 * killing bubblewrap ends everything the server started. Its /etc also gets the root's CA
 * certificates (unused by the servers; one way of rooting for everything).
 */
function inSystem(system: ServiceSystem | undefined, dir: string, argv: readonly string[], extra: ExtraMounts = {}): readonly string[] {
  if (!system) return argv;
  const readOnly = (extra.readOnly ?? []).flatMap((p) => ['--ro-bind', p, p]);
  // A sized tmpfs lives only in the server's mount namespace: it is gone with the server's last
  // process, whoever kills it, and its pages are charged to the memory cgroup of whoever writes them.
  const tmpfs = (extra.tmpfs ?? []).flatMap((t) => ['--perms', '0700', '--size', String(t.bytes), '--tmpfs', t.path]);
  return [system.bwrap, ...rootedArgs(system.root, { etc: path.join(dir, 'etc'), binds: [dir], chdir: dir }), ...readOnly, ...tmpfs, '--', ...argv];
}

/** Mounts a server gets on top of its private folder (only when it runs inside the runtime root). */
export interface ExtraMounts {
  /** Host paths bound read-only at the same path (e.g. a data template to copy from). */
  readOnly?: readonly string[];
  /** Size-bounded tmpfs mounts (e.g. the data directory: writes past `bytes` fail with ENOSPC). */
  tmpfs?: ReadonlyArray<{ path: string; bytes: number }>;
}

/**
 * Joins the cgroups named in $ASYNCLAB_CGROUP_PROCS (as root, before dropping privileges)
 * and only then execs setpriv, so the server and everything it ever forks are inside them.
 * The paths come through the environment and the argv through "$@": nothing is interpolated.
 */
const joinCgroups = 'for f in $ASYNCLAB_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; exec /usr/bin/env -u ASYNCLAB_CGROUP_PROCS "$@"';

/** `setpriv` arguments that run `argv` as `account`, killed with `deathSignal` if the runner dies. */
function asAccount(account: Account, argv: readonly string[], deathSignal: NodeJS.Signals): string[] {
  const drop = process.getuid?.() === 0 ? [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--clear-groups'] : [];
  return [...drop, `--pdeathsig=${deathSignal}`, '--', ...argv];
}

/**
 * A fresh private directory for one service instance. Its name carries the runner's pid so
 * a later runner can tell an abandoned one from a live one.
 */
export async function privateDir(service: string, account: Account): Promise<string> {
  // Unix socket paths are limited to 107 bytes: a long TMPDIR falls back to /tmp.
  const base = tmpdir().length <= 40 ? tmpdir() : '/tmp';
  const dir = await mkdtemp(path.join(base, `asynclab-${service}-${process.pid}-`));
  await shareWithSandboxes(dir, account);
  // The /etc the server sees when it runs inside the runtime root: its account, nothing of the host's.
  await mkdir(path.join(dir, 'etc'), { mode: 0o755 });
  for (const [name, content] of Object.entries(etcFilesFor({ ...account, home: dir }))) {
    await writeFile(path.join(dir, 'etc', name), content, { mode: 0o644 });
  }
  for (const point of etcMountPoints) await mkdir(path.join(dir, 'etc', point), { mode: 0o755 });
  return dir;
}

/**
 * Owned by the service's account, and traversable by group root (0710) and nobody else.
 * bubblewrap resolves a bind-mount source from inside its user namespace, where the root
 * runner is uid/gid 0 without capabilities: group root is what lets it reach the socket.
 * Other host users cannot. (A runner that is not root owns everything itself: 0700.)
 */
export async function shareWithSandboxes(dir: string, account: Account): Promise<void> {
  if (process.getuid?.() === 0) {
    await chown(dir, account.uid, 0);
    await chmod(dir, 0o710);
  } else {
    await chmod(dir, 0o700);
  }
}

/**
 * Removes directories left by runners that died without closing (SIGKILL): their servers
 * died with them (parent-death signal) but the data stayed. Only dead owners' folders go.
 * Returns the folders removed (the runner's startup sweep reports them).
 */
export async function sweepAbandoned(service: string): Promise<string[]> {
  const removed: string[] = [];
  for (const base of new Set([tmpdir(), '/tmp'])) {
    let names: string[];
    try {
      names = await readdir(base);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = new RegExp(`^asynclab-${service}-(\\d+)-[A-Za-z0-9]{6}$`).exec(name);
      if (!match || Number(match[1]) === process.pid || isAlive(Number(match[1]))) continue;
      const dir = path.join(base, name);
      if (await rm(dir, { recursive: true, force: true }).then(() => true, () => false)) removed.push(dir);
    }
  }
  return removed;
}

/** Runs a one-shot program as `account` (initdb, psql) and returns its stdout; rejects with its stderr. */
export function runAs(account: Account, argv: readonly string[], options: { cwd: string; input?: string; timeoutMs?: number; system?: ServiceSystem | undefined }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(setprivPath, asAccount(account, inSystem(options.system, options.cwd, argv), 'SIGKILL'), { cwd: options.cwd, env: serviceEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${path.basename(argv[0]!)} failed (${signal ?? `exit ${code}`}): ${stderr.split('\n').slice(-3).join(' ') || 'no message'}`));
    });
    child.stdin.on('error', () => undefined); // the program may exit before reading everything
    child.stdin.end(options.input ?? '');
  });
}

export interface ServerProcess {
  readonly pid: number;
  /** The last few KiB the server wrote (its log), to explain a failed start. */
  logTail(): string;
  /** Settles when the process has exited. */
  readonly exited: Promise<void>;
  hasExited(): boolean;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs. Resolves once it is gone. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

/**
 * Starts a long-running server as `account` in its own process group (a Ctrl-C meant for
 * the runner's terminal must not reach it: the runner stops it in order), dying with the
 * runner via `deathSignal`. Its output is drained continuously into a small tail buffer,
 * so a chatty log can neither block it nor grow without bound.
 */
export function startServer(
  account: Account,
  argv: readonly string[],
  options: { cwd: string; deathSignal: NodeJS.Signals; system?: ServiceSystem | undefined; mounts?: ExtraMounts; cgroupProcs?: readonly string[] | undefined },
): ServerProcess {
  const setpriv = [setprivPath, ...asAccount(account, inSystem(options.system, options.cwd, argv, options.mounts), options.deathSignal)];
  const procs = options.cgroupProcs ?? [];
  const [file, ...args] = procs.length ? ['/bin/sh', '-c', joinCgroups, 'asynclab-service', ...setpriv] : setpriv;
  const child: ChildProcess = spawn(file!, args, {
    cwd: options.cwd,
    env: procs.length ? { ...serviceEnv, ASYNCLAB_CGROUP_PROCS: procs.join(' ') } : serviceEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // A runner that forgets close() must still be able to exit; the death signal then stops the server.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      exited = true;
      keep(Buffer.from(`\n${err.message}`));
      resolve();
    });
  });
  return {
    pid: child.pid ?? -1,
    logTail: () => tail.trim(),
    exited: exitedPromise,
    hasExited: () => exited,
    async stop(signal, graceMs) {
      if (exited) return;
      child.ref(); // now the runner waits for it (and reaps it)
      child.kill(signal);
      const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), graceMs).unref());
      if ((await Promise.race([exitedPromise, timer])) === 'late') {
        child.kill('SIGKILL');
        await exitedPromise;
      }
    },
  };
}

/** Polls `check` until it holds; fails early if the server exits, or after `timeoutMs`. */
export async function waitUntil(server: ServerProcess, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (server.hasExited()) throw new Error(`it exited during start: ${server.logTail().split('\n').slice(-3).join(' ') || 'no message'}`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`it was not ready within ${timeoutMs / 1000} s: ${server.logTail().split('\n').slice(-3).join(' ') || 'no message'}`);
}

export function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
