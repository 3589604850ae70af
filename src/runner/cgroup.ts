/**
 * One control group per run: the pids controller caps processes + threads (fork
 * bombs), the memory controller caps RSS + tmpfs (memory bombs) and tells us when the
 * OOM killer fired, and both list every process of the run so none survives it.
 * Where the cpu controller can be written, every run also gets a cpu group of its own,
 * all with the same weight, inside one group for all of the runner's runs whose CPU
 * bandwidth is capped (runnerCpuTotal): the kernel shares the CPU between runs, not
 * between processes, so a run with many busy processes takes no more than one with a
 * single one, and the runs together always leave the server some CPU. A single run has
 * no cap of its own beyond that total: the lessons' process-pool speedups need every CPU.
 * A test may still cap a run to a fraction of one CPU (cpuFraction, CFS bandwidth: quota
 * per period) to run a sandbox as if on a slow or busy machine. cgroup v1 (separate
 * pids/memory/cpu hierarchies) and v2 (unified) are supported; the run's group is created
 * under the runner's own, so it counts against whatever limits the runner itself lives in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';

export interface RunCgroupLimits {
  memoryBytes: number;
  processes: number;
  /**
   * CPU time the whole run may use per wall-clock second, in CPUs: 0.3 is 30 % of one
   * CPU shared by all its processes and threads. Undefined: no CPU limit.
   */
  cpuFraction?: number | undefined;
}

export interface RunCgroupStats {
  oomKills: number;
  pidsLimitHit: number;
}

export interface RunCgroup {
  /** `cgroup.procs` files a process writes its pid into to join the run (before it forks). */
  readonly procsFiles: string[];
  pids(): Promise<number[]>;
  stats(): Promise<RunCgroupStats>;
  /** SIGKILL every process until the group is empty, then remove it. */
  destroy(): Promise<void>;
}

export interface CgroupSupport {
  version: 1 | 2;
  /**
   * CPUs all of the runner's runs may use together (each run has its own equal-weight cpu
   * group inside that cap), or undefined where no cpu controller can be written.
   */
  cpuTotal: number | undefined;
  /** Whether `create` can honour `cpuFraction` (a cpu controller we may write to); if not, asking for one throws. */
  cpuLimit: boolean;
  create(name: string, limits: RunCgroupLimits): Promise<RunCgroup>;
  /** Removes this process's (empty) folder of run groups. */
  close(): Promise<void>;
}

const root = '/sys/fs/cgroup';

/** CFS bandwidth period: 100 ms, the kernel's default, so a throttled run is paused in slices of at most that. */
const cpuPeriodUs = 100_000;

/** The CFS quota for a fraction of one CPU; the kernel refuses quotas under 1 ms. */
function cpuQuotaUs(fraction: number): number {
  if (!(fraction > 0) || !Number.isFinite(fraction)) throw new Error(`cpuFraction must be a positive number, got ${fraction}`);
  return Math.max(1_000, Math.round(fraction * cpuPeriodUs));
}

/**
 * The runs together may use every CPU but a quarter of one, so a reader's page, the
 * server and the runner's own bookkeeping stay responsive however busy the runs are.
 */
export function runnerCpuTotal(cpus = availableParallelism()): number {
  return Math.max(0.5, cpus - 0.25);
}

/**
 * How much the runner's group weighs against its neighbours (v1 cpu.shares, v2
 * cpu.weight): as much as one busy process per CPU, what the runs weighed before they were
 * grouped, so grouping them does not hand their CPU to whatever else runs on the machine.
 */
function runnerWeight(defaultWeight: number, cpus = availableParallelism()): number {
  return defaultWeight * Math.max(1, cpus);
}

function noCpuController(): never {
  // Never silently run unthrottled: a test that asked for a slow CPU would pass for the wrong reason.
  throw new Error('a CPU limit was asked for, but the runner cannot write to a cpu cgroup controller');
}

/** The path of this process's group in a v1 hierarchy (`memory`) or in v2 (`''`). */
function ownGroup(controller: string): string | undefined {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  for (const line of lines) {
    const [, controllers, group] = line.split(':');
    if (controller === '' ? controllers === '' : controllers?.split(',').includes(controller)) return group;
  }
  return undefined;
}

async function writable(dir: string): Promise<boolean> {
  const probe = path.join(dir, `asynclab-probe-${process.pid}`);
  try {
    await mkdir(probe);
    await rmdir(probe);
    return true;
  } catch {
    return false;
  }
}

async function readInt(file: string, key?: string): Promise<number> {
  try {
    const text = await readFile(file, 'utf8');
    if (!key) return Number.parseInt(text.trim(), 10) || 0;
    const line = text.split('\n').find((l) => l.startsWith(`${key} `));
    return line ? Number.parseInt(line.split(' ')[1]!, 10) || 0 : 0;
  } catch {
    return 0;
  }
}

async function listPids(procsFiles: string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const file of procsFiles) {
    try {
      for (const line of (await readFile(file, 'utf8')).split('\n')) if (line) pids.add(Number(line));
    } catch {
      // group already gone
    }
  }
  return [...pids];
}

async function killAll(procsFiles: string[]): Promise<void> {
  // A fork bomb can add processes while we kill; the pids limit bounds the race.
  for (let round = 0; round < 200; round++) {
    const pids = await listPids(procsFiles);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await new Promise((resolve) => setTimeout(resolve, round < 10 ? 5 : 25));
  }
  throw new Error(`processes survived in ${procsFiles.join(', ')}`);
}

async function removeDir(dir: string): Promise<void> {
  // rmdir fails with EBUSY for a moment after the last process is reaped.
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function v1(): Promise<CgroupSupport | undefined> {
  const pidsOwn = ownGroup('pids');
  const memOwn = ownGroup('memory');
  if (pidsOwn === undefined || memOwn === undefined) return undefined;
  // One folder per runner process, so runners side by side never see each other's runs.
  const pidsBase = path.join(root, 'pids', pidsOwn, 'asynclab', String(process.pid));
  const memBase = path.join(root, 'memory', memOwn, 'asynclab', String(process.pid));
  try {
    await mkdir(pidsBase, { recursive: true });
    await mkdir(memBase, { recursive: true });
  } catch {
    return undefined;
  }
  if (!(await writable(pidsBase)) || !(await writable(memBase))) return undefined;
  // The cpu hierarchy is optional (only CPU-limited runs join it). Where it is mounted
  // together with cpuacct (`cpu,cpuacct`), /sys/fs/cgroup/cpu is the usual link to it.
  const cpuOwn = ownGroup('cpu');
  let cpuBase: string | undefined = cpuOwn === undefined ? undefined : path.join(root, 'cpu', cpuOwn, 'asynclab', String(process.pid));
  const cpuTotal = runnerCpuTotal();
  /**
   * (Re)made before each run too: another runner of this process may have removed it on
   * close. Whether the cap could be set: where the runner's own group already has a lower
   * quota (a container's CPU limit), v1 refuses a higher one, and that lower one holds.
   */
  const prepareCpuBase = async (base: string): Promise<boolean> => {
    await mkdir(base, { recursive: true });
    for (const dir of [path.dirname(base), base]) await writeFile(path.join(dir, 'cpu.shares'), String(runnerWeight(1024))).catch(() => undefined);
    return writeFile(path.join(base, 'cpu.cfs_period_us'), String(cpuPeriodUs))
      .then(() => writeFile(path.join(base, 'cpu.cfs_quota_us'), String(cpuQuotaUs(cpuTotal))))
      .then(() => true, () => false);
  };
  let cpuCapped = false;
  if (cpuBase) {
    cpuCapped = await prepareCpuBase(cpuBase).catch(() => false);
    const ok = await writable(cpuBase);
    if (!ok || !existsSync(path.join(cpuBase, 'cpu.cfs_quota_us'))) cpuBase = undefined;
  }
  return {
    version: 1,
    cpuTotal: cpuBase && cpuCapped ? cpuTotal : undefined,
    cpuLimit: cpuBase !== undefined,
    async close() {
      await rmdir(pidsBase).catch(() => undefined);
      await rmdir(memBase).catch(() => undefined);
      if (cpuBase) await rmdir(cpuBase).catch(() => undefined);
    },
    async create(name, limits) {
      const pidsDir = path.join(pidsBase, name);
      const memDir = path.join(memBase, name);
      if (limits.cpuFraction !== undefined && !cpuBase) noCpuController();
      const cpuDir = cpuBase && path.join(cpuBase, name);
      // recursive: another runner of this process may have removed the (then empty) base on close.
      await mkdir(pidsDir, { recursive: true });
      await mkdir(memDir, { recursive: true });
      if (cpuBase && cpuDir) {
        await prepareCpuBase(cpuBase);
        // A new group has the default weight (cpu.shares 1024), the same as every other run's.
        await mkdir(cpuDir, { recursive: true });
        if (limits.cpuFraction !== undefined) {
          // v1 refuses a child quota above its parent's: the runner's total is the most a run can have anyway.
          await writeFile(path.join(cpuDir, 'cpu.cfs_period_us'), String(cpuPeriodUs));
          await writeFile(path.join(cpuDir, 'cpu.cfs_quota_us'), String(cpuQuotaUs(Math.min(limits.cpuFraction, cpuTotal))));
        }
      }
      await writeFile(path.join(pidsDir, 'pids.max'), String(limits.processes));
      await writeFile(path.join(memDir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // Without this the group could swap instead of hitting the limit.
      if (existsSync(path.join(memDir, 'memory.memsw.limit_in_bytes'))) {
        await writeFile(path.join(memDir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      }
      // The sandbox's first process writes its pid into each of these before it execs anything.
      const procsFiles = [path.join(pidsDir, 'cgroup.procs'), path.join(memDir, 'cgroup.procs'), ...(cpuDir ? [path.join(cpuDir, 'cgroup.procs')] : [])];
      return {
        procsFiles,
        pids: () => listPids(procsFiles),
        async stats() {
          return {
            oomKills: await readInt(path.join(memDir, 'memory.oom_control'), 'oom_kill'),
            pidsLimitHit: await readInt(path.join(pidsDir, 'pids.events'), 'max'),
          };
        },
        async destroy() {
          await killAll(procsFiles);
          await removeDir(pidsDir);
          await removeDir(memDir);
          if (cpuDir) await removeDir(cpuDir);
        },
      };
    },
  };
}

async function v2(): Promise<CgroupSupport | undefined> {
  const own = ownGroup('');
  if (own === undefined || !existsSync(path.join(root, 'cgroup.controllers'))) return undefined;
  // v2 forbids processes in inner groups: the runner's own group must delegate to a child.
  const base = path.join(root, own, 'asynclab', String(process.pid));
  try {
    await mkdir(base, { recursive: true });
    await writeFile(path.join(root, own, 'asynclab', 'cgroup.subtree_control'), '+pids +memory').catch(() => undefined);
    await writeFile(path.join(base, 'cgroup.subtree_control'), '+pids +memory');
  } catch {
    return undefined;
  }
  // The cpu controller is optional: delegate it too where the parent offers it. Then every
  // run's group has the default weight (100), the same as every other run's, and the base
  // the cap on all of them together. Whether delegated, and whether capped: (re)done before
  // each run, as the base may have been removed and made again in between.
  const cpuTotal = runnerCpuTotal();
  const enableCpu = async (): Promise<{ enabled: boolean; capped: boolean }> => {
    await writeFile(path.join(root, own, 'asynclab', 'cgroup.subtree_control'), '+cpu').catch(() => undefined);
    const enabled = await writeFile(path.join(base, 'cgroup.subtree_control'), '+cpu').then(() => true, () => false);
    if (!enabled) return { enabled, capped: false };
    for (const dir of [path.join(root, own, 'asynclab'), base]) await writeFile(path.join(dir, 'cpu.weight'), String(Math.min(10_000, runnerWeight(100)))).catch(() => undefined);
    const capped = await writeFile(path.join(base, 'cpu.max'), `${cpuQuotaUs(cpuTotal)} ${cpuPeriodUs}`).then(() => true, () => false);
    return { enabled, capped };
  };
  const cpu = await enableCpu();
  return {
    version: 2,
    cpuTotal: cpu.capped ? cpuTotal : undefined,
    cpuLimit: cpu.enabled,
    async close() {
      await rmdir(base).catch(() => undefined);
    },
    async create(name, limits) {
      const dir = path.join(base, name);
      // The base may have been removed by another runner of this process closing: restore it.
      await mkdir(base, { recursive: true });
      await writeFile(path.join(base, 'cgroup.subtree_control'), '+pids +memory').catch(() => undefined);
      const cpuNow = cpu.enabled && (await enableCpu()).enabled;
      if (limits.cpuFraction !== undefined && !cpuNow) noCpuController();
      await mkdir(dir);
      if (limits.cpuFraction !== undefined) await writeFile(path.join(dir, 'cpu.max'), `${cpuQuotaUs(limits.cpuFraction)} ${cpuPeriodUs}`);
      await writeFile(path.join(dir, 'pids.max'), String(limits.processes));
      await writeFile(path.join(dir, 'memory.max'), String(limits.memoryBytes));
      await writeFile(path.join(dir, 'memory.swap.max'), '0').catch(() => undefined);
      const procsFiles = [path.join(dir, 'cgroup.procs')];
      return {
        procsFiles,
        pids: () => listPids(procsFiles),
        async stats() {
          return {
            oomKills: await readInt(path.join(dir, 'memory.events'), 'oom_kill'),
            pidsLimitHit: await readInt(path.join(dir, 'pids.events'), 'max'),
          };
        },
        async destroy() {
          await writeFile(path.join(dir, 'cgroup.kill'), '1').catch(() => undefined);
          await killAll(procsFiles);
          await removeDir(dir);
        },
      };
    },
  };
}

/** The first cgroup version this process can manage, or undefined (not root, or no controllers). */
export async function detectCgroups(): Promise<CgroupSupport | undefined> {
  if (!existsSync('/proc/self/cgroup')) return undefined;
  return (await v1()) ?? (await v2());
}

/**
 * A runner's folder of groups (`asynclab/<pid>`) in one hierarchy, as the startup sweep
 * finds it beside this process's own: `createdMs` is when the folder was made (cgroupfs
 * keeps it as the folder's mtime, which adding or removing groups inside does not change).
 */
export interface RunnerGroupFolder {
  pid: number;
  dir: string;
  createdMs: number;
}

/**
 * Every runner folder under this process's own group, in every hierarchy runners use:
 * v1's pids, memory and cpu, and v2. A runner of another session (another own group) is
 * not seen; runners started side by side, as the tests and `npm start` do, are.
 */
export async function runnerGroupFolders(): Promise<RunnerGroupFolder[]> {
  if (!existsSync('/proc/self/cgroup')) return [];
  const bases = new Set<string>();
  for (const controller of ['pids', 'memory', 'cpu']) {
    const own = ownGroup(controller);
    if (own !== undefined) bases.add(path.join(root, controller, own, 'asynclab'));
  }
  const unified = ownGroup('');
  if (unified !== undefined && existsSync(path.join(root, 'cgroup.controllers'))) bases.add(path.join(root, unified, 'asynclab'));
  const found: RunnerGroupFolder[] = [];
  for (const base of bases) {
    let names: string[];
    try {
      names = await readdir(base);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      const dir = path.join(base, name);
      try {
        const info = await stat(dir);
        if (info.isDirectory()) found.push({ pid: Number(name), dir, createdMs: info.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
  }
  return found;
}

/**
 * Empties and removes `dir` and every group under it, deepest first: each group's
 * processes are SIGKILLed (v2: through cgroup.kill as well) until it is empty. Returns
 * the groups removed and the processes that were found in them (pids).
 */
export async function removeGroupTree(dir: string): Promise<{ groups: string[]; pids: number[] }> {
  const removed: string[] = [];
  const pids: number[] = [];
  let names: string[] = [];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return { groups: removed, pids };
  }
  for (const name of names) {
    const inner = await removeGroupTree(path.join(dir, name));
    removed.push(...inner.groups);
    pids.push(...inner.pids);
  }
  const procs = [path.join(dir, 'cgroup.procs')];
  pids.push(...(await listPids(procs)));
  if (existsSync(path.join(dir, 'cgroup.kill'))) await writeFile(path.join(dir, 'cgroup.kill'), '1').catch(() => undefined);
  await killAll(procs);
  await removeDir(dir);
  if (!existsSync(dir)) removed.push(dir);
  return { groups: removed, pids };
}
