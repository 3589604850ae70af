/**
 * Per-run limits and the runner's capacity. Each limit names the mechanism that
 * enforces it (see README "Runner limits"); numbers follow DESIGN §5 and can be
 * lowered (never raised past the ceilings) with RUNNER_* environment variables.
 */
import { cpus } from 'node:os';

export interface Limits {
  /** Wall time, script sandboxes (runner timer → kill the sandbox). */
  wallMsScript: number;
  /** Wall time, server sandboxes. */
  wallMsServer: number;
  /** Wall time, server sandboxes run with a live preview (they keep serving after their load). */
  wallMsPreview: number;
  /** CPU seconds per process (RLIMIT_CPU → SIGXCPU). */
  cpuSeconds: number;
  /** Memory of the whole sandbox, RSS + tmpfs (memory cgroup → OOM kill). */
  memoryBytes: number;
  /** Processes and threads together (pids cgroup → fork/clone fail with EAGAIN). */
  processes: number;
  /** Open files per process (RLIMIT_NOFILE). */
  openFiles: number;
  /** Largest single file a sandbox may write (RLIMIT_FSIZE → SIGXFSZ). */
  fileBytes: number;
  /** Writable space: /work, /tmp and /dev/shm are tmpfs of this size each (ENOSPC); / and /dev are read-only. */
  tmpfsBytes: number;
  /** stdout + stderr together (runner counts → truncate with a marker, kill). */
  outputBytes: number;
  /** Trace side channel bytes and events (runner counts → kill). */
  traceBytes: number;
  traceEvents: number;
  /** Longest trace line kept; longer lines are dropped as garbage. */
  traceLineBytes: number;
  /** Sum of the source files of one run (checked before anything starts). */
  sourceBytes: number;
  /** Files in one run. */
  sourceFiles: number;
  /** Largest WebSocket message the runner accepts (ws maxPayload → close 1009). */
  messageBytes: number;
  /** Runs executing at once. */
  concurrency: number;
  /**
   * Runs waiting in all; beyond this a new run is refused as busy, except a page's first
   * waiting run, which is always taken (so a few pages cannot fill the queue for the rest).
   */
  queue: number;
  /** Runs one page connection may have waiting; beyond this its next run is refused (queue-limit). */
  queuePerConnection: number;
  /** Runs one page connection may have going at once, running and waiting (beyond: bad request). */
  runsPerConnection: number;
  /** Open runner WebSocket connections; beyond this an upgrade is answered 503. */
  connections: number;
  /**
   * CPU for the whole run, in CPUs per wall-clock second (cpu cgroup bandwidth → the run is
   * paused when it has used its share of each 100 ms). Unset: no limit. Tests set it
   * (e.g. 0.3) to check that sandboxes' claims hold on a slow or busy machine.
   */
  cpuFraction?: number | undefined;
}

const MiB = 1024 * 1024;
const KiB = 1024;

export const defaultLimits: Limits = {
  wallMsScript: 20_000,
  wallMsServer: 30_000,
  wallMsPreview: 120_000,
  cpuSeconds: 10,
  memoryBytes: 512 * MiB,
  processes: 64,
  openFiles: 256,
  fileBytes: 8 * MiB,
  tmpfsBytes: 16 * MiB,
  outputBytes: 1 * MiB,
  traceBytes: 1 * MiB,
  traceEvents: 10_000,
  traceLineBytes: 4 * KiB,
  sourceBytes: 64 * KiB,
  sourceFiles: 32,
  messageBytes: 128 * KiB,
  concurrency: Math.max(1, 2 * cpus().length),
  queue: 32,
  queuePerConnection: 4,
  runsPerConnection: 8,
  connections: 64,
};

/** Limits from the environment: RUNNER_CONCURRENCY, RUNNER_QUEUE, RUNNER_CONNECTIONS, RUNNER_MEMORY_MIB, RUNNER_CPU_SECONDS. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env, base: Limits = defaultLimits): Limits {
  const int = (name: string, fallback: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    return Math.min(value, max);
  };
  return {
    ...base,
    concurrency: int('RUNNER_CONCURRENCY', base.concurrency, 64),
    queue: int('RUNNER_QUEUE', base.queue, 1000),
    connections: int('RUNNER_CONNECTIONS', base.connections, 1000),
    memoryBytes: int('RUNNER_MEMORY_MIB', base.memoryBytes / MiB, 2048) * MiB,
    cpuSeconds: int('RUNNER_CPU_SECONDS', base.cpuSeconds, 60),
  };
}
