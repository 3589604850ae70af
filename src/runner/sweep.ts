/**
 * What a runner that died without closing (SIGKILL, a crash, a power cut of the process)
 * left behind, swept when the next runner starts: its work directory, its cgroups (and
 * any process still in them) and its services' data directories (and any server process
 * still working in them). Only what provably belongs to a dead runner goes: runners live
 * side by side, in one process and across processes, and a pid can be reused.
 *
 * How ownership is proved:
 * - a work directory holds an `owner` file with its runner's pid and that process's start
 *   time (from /proc/<pid>/stat): it is abandoned when no process with that pid and start
 *   time exists. A directory without the file (being created, or made by an older runner)
 *   is left alone;
 * - a cgroup folder `asynclab/<pid>` (cgroup.ts) is abandoned when no process has that pid,
 *   or when the process that has it started after the folder was made (so it cannot have
 *   made it: the pid was reused);
 * - a service data directory `asynclab-<service>-<pid>-*` is abandoned when its pid is dead
 *   (services/service-process.ts `sweepAbandoned`, which removes it).
 */
import { readFileSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { removeGroupTree, runnerGroupFolders, type RunnerGroupFolder } from './cgroup.ts';
import { sweepAbandoned } from './services/service-process.ts';
import { serviceNames } from './services/types.ts';

export interface SweepReport {
  workDirs: string[];
  cgroups: string[];
  /** Processes found (and SIGKILLed) in abandoned cgroups or working in abandoned service data. */
  processes: number[];
  serviceDirs: string[];
}

/** The file in a work root naming the runner that owns it: `<pid> <start time in clock ticks>`. */
export const ownerFile = 'owner';

export const workRootPrefix = 'asynclab-runner-';

/**
 * Linux reports process start times in USER_HZ ticks since boot; USER_HZ is 100 on every
 * architecture Node runs on (it is part of the kernel's ABI, unlike HZ).
 */
const ticksPerSecond = 100;

/**
 * How much later than a cgroup folder a process must have started before the folder is
 * taken as another process's: start times are derived from the boot time, which /proc
 * gives in whole seconds, and the wall clock may have been slewed since boot.
 */
const clockSlackMs = 5_000;

/** A process's start time in ticks since boot, or undefined if there is no such process. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // starttime is field 22 of the whole line: field 20 counting from the state (field 3).
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function bootTimeMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('btime '));
  return Number(line?.split(' ')[1] ?? 0) * 1000;
}

/** When a process started, in epoch ms (within a second), or undefined if there is none. */
function processStartMs(pid: number): number | undefined {
  const ticks = processStartTicks(pid);
  return ticks === undefined ? undefined : bootTimeMs() + (ticks * 1000) / ticksPerSecond;
}

/** Marks `workRoot` as this process's, so a later runner can tell it from a dead runner's. */
export async function writeOwnerMarker(workRoot: string): Promise<void> {
  const ticks = processStartTicks(process.pid);
  if (ticks === undefined) return; // no /proc: nothing could sweep it either
  await writeFile(path.join(workRoot, ownerFile), `${process.pid} ${ticks}\n`, { mode: 0o600 });
}

/** The bases runners make their work roots in (the runner uses tmpdir(); /tmp for one started with another TMPDIR). */
function tempBases(): string[] {
  return [...new Set([tmpdir(), '/tmp'])];
}

async function abandonedWorkDirs(): Promise<string[]> {
  const found: string[] = [];
  const uid = process.getuid?.();
  for (const base of tempBases()) {
    let names: string[];
    try {
      names = await readdir(base);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.startsWith(workRootPrefix)) continue;
      const dir = path.join(base, name);
      try {
        const info = await lstat(dir);
        // Only a real directory of this user's: never through a link, never another user's.
        if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
        const owner = /^(\d+) (\d+)\n?$/.exec(await readFile(path.join(dir, ownerFile), 'utf8'));
        if (!owner) continue;
        if (processStartTicks(Number(owner[1])) === Number(owner[2])) continue; // its runner is alive
        found.push(dir);
      } catch {
        // no owner file (a runner being created, or an older one's): not provably abandoned
      }
    }
  }
  return found;
}

/** A folder whose pid is dead, or whose pid's process started after the folder was made. */
function abandonedFolder({ pid, createdMs }: RunnerGroupFolder): boolean {
  const started = processStartMs(pid);
  return started === undefined || started > createdMs + clockSlackMs;
}

interface GroupsRemoved {
  groups: string[];
  pids: number[];
}

async function removeGroups(dirs: readonly string[]): Promise<GroupsRemoved> {
  const all: GroupsRemoved = { groups: [], pids: [] };
  for (const dir of dirs) {
    const removed = await removeGroupTree(dir).catch(() => ({ groups: [], pids: [] }));
    all.groups.push(...removed.groups);
    all.pids.push(...removed.pids);
  }
  return all;
}

/**
 * This process's own pid's folders are a dead process's only if they predate this process
 * (the pid was reused). They are swept once per process, and every runner of this process
 * waits for that before it starts, so none can have made a run group in them meanwhile.
 */
let ownFoldersSwept: Promise<GroupsRemoved> | undefined;

async function sweepGroups(): Promise<GroupsRemoved> {
  const folders = await runnerGroupFolders().catch(() => [] as RunnerGroupFolder[]);
  const first = ownFoldersSwept === undefined;
  ownFoldersSwept ??= removeGroups(folders.filter((f) => f.pid === process.pid && abandonedFolder(f)).map((f) => f.dir));
  const own = await ownFoldersSwept;
  const others = await removeGroups(folders.filter((f) => f.pid !== process.pid && abandonedFolder(f)).map((f) => f.dir));
  // Only the runner that swept them reports this process's own.
  return first ? { groups: [...own.groups, ...others.groups], pids: [...own.pids, ...others.pids] } : others;
}

/** Pids whose working directory or command line is inside one of `dirs` (service servers of a dead runner). */
async function processesIn(dirs: readonly string[]): Promise<number[]> {
  if (dirs.length === 0) return [];
  const inside = (p: string) => dirs.some((dir) => p === dir || p.startsWith(`${dir}/`));
  const found: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cwd = await readlink(`/proc/${name}/cwd`);
      const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0');
      if (inside(cwd) || argv.some(inside)) found.push(Number(name));
    } catch {
      // exited, or not ours to read
    }
  }
  return found;
}

/** The data directories `sweepAbandoned` is about to remove (dead owner's pid in the name). */
async function abandonedServiceDirs(): Promise<string[]> {
  const found: string[] = [];
  for (const base of tempBases()) {
    for (const name of await readdir(base).catch(() => [] as string[])) {
      const match = /^asynclab-([a-z]+)-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
      if (!match || !(serviceNames as readonly string[]).includes(match[1]!)) continue;
      if (processStartTicks(Number(match[2])) === undefined) found.push(path.join(base, name));
    }
  }
  return found;
}

/** Finds and removes what dead runners left. Never throws: a sweep that fails leaves things as they were. */
export async function sweepAbandonedRunners(): Promise<SweepReport> {
  const report: SweepReport = { workDirs: [], cgroups: [], processes: [], serviceDirs: [] };
  const groups = await sweepGroups();
  report.cgroups.push(...groups.groups);
  const pids = new Set<number>(groups.pids);
  // A server that outlived its runner (its parent-death signal lost) still works in its data.
  for (const pid of await processesIn(await abandonedServiceDirs().catch(() => []))) {
    try {
      process.kill(pid, 'SIGKILL');
      pids.add(pid);
    } catch {
      // exited meanwhile
    }
  }
  report.processes = [...pids];
  for (const service of serviceNames) report.serviceDirs.push(...(await sweepAbandoned(service).catch(() => [])));
  for (const dir of await abandonedWorkDirs().catch(() => [])) {
    // rm never follows symlinks, so nothing a run left in its directory can point it elsewhere.
    if (await rm(dir, { recursive: true, force: true }).then(() => true, () => false)) report.workDirs.push(dir);
  }
  return report;
}

/** One log line saying what a sweep removed, or undefined if it removed nothing. */
export function describeSweep(report: SweepReport): string | undefined {
  const { workDirs, cgroups, processes, serviceDirs } = report;
  if (workDirs.length + cgroups.length + processes.length + serviceDirs.length === 0) return undefined;
  const list = (items: readonly (string | number)[]) => (items.length ? ` (${items.join(', ')})` : '');
  return (
    `[runner] swept what dead runners left: ${workDirs.length} work director${workDirs.length === 1 ? 'y' : 'ies'}${list(workDirs)}, ` +
    `${cgroups.length} cgroup${cgroups.length === 1 ? '' : 's'}${list(cgroups)}, ` +
    `${processes.length} process${processes.length === 1 ? '' : 'es'} killed${list(processes)}, ` +
    `${serviceDirs.length} service data director${serviceDirs.length === 1 ? 'y' : 'ies'}${list(serviceDirs)}`
  );
}
