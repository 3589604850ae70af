/**
 * The command line of one sandboxed run: a tiny shell that joins the run's cgroups,
 * then prlimit (per-process limits), then bubblewrap (namespaces and a read-only
 * view of the system), then the language harness. Kept apart from process handling so
 * the exact isolation can be read, and tested, in one place.
 */
import path from 'node:path';
import type { SandboxManifest } from '../protocol/manifest.ts';
import type { Limits } from './limits.ts';
import type { RunnerEnvironment } from './environment.ts';
import { sslBinds, systemBinds } from '../runtime/system-root.ts';
import { seccompProgram } from './seccomp.ts';

export interface SandboxPaths {
  /** Host directory with the run's source files (read-only inside). */
  src: string;
  /** Host directory with the harness (`sandboxes/_harness`). */
  harness: string;
  /** Host directory with the runner's synthetic /etc (hosts, passwd, group, nsswitch.conf). */
  etc: string;
  /** Unsafe mode only: host directories standing in for /work and /tmp. */
  work?: string;
  tmp?: string;
}

export interface SandboxCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  /**
   * bwrap's options, NUL-separated, for the caller to write to descriptor `argsFd` (then
   * close): bwrap reads them with `--args`, so they never appear on a command line. bwrap's
   * PID 1 inside the sandbox is a fork of bwrap and keeps its argv, which any sandbox
   * process can read from /proc/1/cmdline: the options name host paths (the run
   * directory, the runner's work root), the command line must not.
   */
  argsData?: string;
  /**
   * The seccomp filter (seccomp.ts), for the caller to write to descriptor `seccompFd` (then
   * close): bwrap loads it with `--seccomp` just before it execs the sandbox's program.
   */
  seccompData?: Buffer;
}

/**
 * The uid/gid a sandbox's processes have inside their user namespace (nobody). That
 * namespace maps it to the uid the runner runs as, so on the host they are the runner's
 * uid: root when the runner runs as root. What contains them is not the uid but the rest
 * of the sandbox: every capability dropped (`--cap-drop ALL`, in the sandbox's own user
 * namespace, which grants nothing outside it), no new privileges (bwrap sets
 * PR_SET_NO_NEW_PRIVS, so no setuid binary or file capability can add any), the seccomp
 * filter (seccomp.ts), no further user namespaces (`--disable-userns`), and namespaces of
 * its own for mounts, PIDs, network, IPC, UTS and cgroups, so the host's files, processes
 * and network are not reachable to act on in the first place.
 */
export const sandboxUid = 65534;

/**
 * Joins the cgroups (before anything can fork), then execs the rest with an empty
 * environment: bwrap's PID 1 keeps the environment it starts with, and a sandbox can read
 * it from /proc/1/environ (sh alone would still hand over PWD, the host's directory).
 */
const joinCgroups = 'for f in $ASYNCLAB_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; exec /usr/bin/env -i "$@"';
/** Inside the sandbox: copy the read-only sources into the writable tmpfs and start there. */
const prepareWork = 'cp -R "$ASYNCLAB_SRC"/. "$ASYNCLAB_WORK"/ && cd "$ASYNCLAB_WORK" && exec "$@"';

function interpreter(manifest: SandboxManifest, env: RunnerEnvironment, inside: { harness: string; node: string }, limits: Limits): string[] {
  if (manifest.language === 'python') {
    if (!env.python) throw new Error(env.pythonProblem ?? 'no Python for sandboxes');
    const script = manifest.kind === 'server' ? 'serve.py' : 'run.py';
    return [env.python.executable, '-u', '-s', '-X', 'utf8', path.posix.join(inside.harness, 'python', script)];
  }
  // V8 sizes its heap from the machine, not from the cgroup: cap it below the cgroup limit.
  const heapMiB = Math.max(64, Math.floor((limits.memoryBytes / (1024 * 1024)) * 0.6));
  const script = manifest.kind === 'server' ? 'serve.mjs' : 'run.mjs';
  return [inside.node, `--max-old-space-size=${heapMiB}`, '--disable-warning=ExperimentalWarning', path.posix.join(inside.harness, 'node', script)];
}

export interface CommandOptions {
  manifest: SandboxManifest;
  env: RunnerEnvironment;
  limits: Limits;
  paths: SandboxPaths;
  cgroupProcs: string[];
  /** Monotonic start of the run in ns (process.hrtime.bigint()); trace timestamps count from it. */
  t0ns: bigint;
  /** No bubblewrap: only for machines without it, and only when explicitly asked for. */
  unsafe: boolean;
  /** Connection settings of the services the run needs (DATABASE_URL, REDIS_URL…). */
  serviceEnv?: Record<string, string> | undefined;
  /** Service sockets, bind-mounted read-only (a socket can still be connected to through a read-only mount). */
  serviceMounts?: ReadonlyArray<{ host: string; inside: string }> | undefined;
  /** Live preview: the inherited descriptor of the listening preview socket (preview/activation.ts). */
  previewFd?: number | undefined;
  /** The inherited descriptor bwrap reads its options from (see SandboxCommand.argsData). */
  argsFd: number;
  /** The inherited descriptor bwrap reads the seccomp filter from (see SandboxCommand.seccompData). */
  seccompFd: number;
}

export function buildSandboxCommand(o: CommandOptions): SandboxCommand {
  const { manifest, env, limits, paths } = o;
  const inside = o.unsafe
    ? { src: paths.src, work: paths.work!, tmp: paths.tmp!, harness: paths.harness, node: env.node }
    : { src: '/src', work: '/work', tmp: '/tmp', harness: '/harness', node: '/opt/node/bin/node' };

  const sandboxEnv: Record<string, string> = {
    ...o.serviceEnv,
    PATH: o.unsafe ? `${path.dirname(env.node)}:/usr/bin:/bin` : '/opt/node/bin:/usr/bin:/bin',
    HOME: inside.work,
    TMPDIR: inside.tmp,
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    ASYNCLAB_SRC: inside.src,
    ASYNCLAB_WORK: inside.work,
    ASYNCLAB_HARNESS: inside.harness,
    ASYNCLAB_KIND: manifest.kind,
    ASYNCLAB_ENTRY: manifest.entry,
    ASYNCLAB_TRACE_FD: '3',
    ASYNCLAB_T0_NS: o.t0ns.toString(),
    ASYNCLAB_LOAD: JSON.stringify(manifest.load ?? []),
    ASYNCLAB_NEEDS: manifest.needs.join(','),
    ...(o.previewFd !== undefined ? { ASYNCLAB_PREVIEW_FD: String(o.previewFd) } : {}),
  };

  const program = ['/bin/sh', '-c', prepareWork, 'asynclab-sandbox', ...interpreter(manifest, env, inside, limits)];

  const prlimit = [
    env.prlimit ?? '/usr/bin/prlimit',
    // Soft limit first (SIGXCPU, which names the cause), hard limit a second later (SIGKILL).
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--nofile=${limits.openFiles}`,
    `--fsize=${limits.fileBytes}`,
    '--core=0',
    '--',
  ];

  let isolated: string[];
  let argsData: string | undefined;
  if (o.unsafe) {
    isolated = ['/usr/bin/env', '-i', ...Object.entries(sandboxEnv).map(([k, v]) => `${k}=${v}`), ...program];
  } else {
    const bwrap = [
      '--unshare-all',
      '--unshare-user',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--uid',
      String(sandboxUid),
      '--gid',
      String(sandboxUid),
      '--disable-userns',
      '--hostname',
      'sandbox',
      // The pinned runtime's /usr (or, under RUNNER_PYTHON, the host's): the sandbox's whole system.
      ...systemBinds(env.system.root),
      '--ro-bind',
      paths.etc,
      '/etc',
      ...sslBinds(env.system.root),
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      // Python's multiprocessing (semaphores, process pools) needs a writable /dev/shm: a bounded one.
      '--size',
      String(limits.tmpfsBytes),
      '--tmpfs',
      '/dev/shm',
      '--size',
      String(limits.tmpfsBytes),
      '--tmpfs',
      '/tmp',
      '--size',
      String(limits.tmpfsBytes),
      '--tmpfs',
      '/work',
      '--ro-bind',
      paths.src,
      '/src',
      '--ro-bind',
      paths.harness,
      '/harness',
      '--ro-bind',
      env.node,
      '/opt/node/bin/node',
    ];
    for (const prefix of env.python?.extraPrefixes ?? []) bwrap.push('--ro-bind', prefix, prefix);
    for (const mount of o.serviceMounts ?? []) bwrap.push('--ro-bind', mount.host, mount.inside);
    for (const [k, v] of Object.entries(sandboxEnv)) bwrap.push('--setenv', k, v);
    // Last, once every mount point exists: the root and /dev are tmpfs bwrap made with no
    // size, so writable they would let a run write past its disk limit (until the memory
    // limit). Read-only, only the sized tmpfs mounts (/work, /tmp, /dev/shm) take writes.
    bwrap.push('--remount-ro', '/dev', '--remount-ro', '/');
    bwrap.push('--chdir', '/work');
    bwrap.push('--seccomp', String(o.seccompFd));
    if (bwrap.some((arg) => arg.includes('\0'))) throw new Error('a NUL in a bwrap option');
    argsData = bwrap.map((arg) => `${arg}\0`).join('');
    isolated = [env.bwrap!, '--args', String(o.argsFd), '--', ...program];
  }

  return {
    file: '/bin/sh',
    args: ['-c', joinCgroups, 'asynclab-cgroup', ...prlimit, ...isolated],
    env: { ASYNCLAB_CGROUP_PROCS: o.cgroupProcs.join(' ') },
    ...(argsData !== undefined ? { argsData, seccompData: seccompProgram() } : {}),
  };
}

/** The synthetic /etc every sandbox sees: enough for `localhost` and user lookups, nothing of the host's. */
export const sandboxEtcFiles: Record<string, string> = {
  hosts: '127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost\n',
  passwd: `sandbox:x:${sandboxUid}:${sandboxUid}:sandbox:/work:/usr/sbin/nologin\n`,
  group: `sandbox:x:${sandboxUid}:\n`,
  'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
};
