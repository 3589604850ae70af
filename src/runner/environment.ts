/**
 * What the runner needs from the machine, found once at start: bubblewrap, cgroups,
 * prlimit, the pinned sandbox runtime (src/runtime: the Debian root sandboxes and
 * services run in) and the project's Node. Missing isolation is never skipped silently:
 * `detectEnvironment` reports it and the runner refuses to start unless explicitly told
 * to run unsafely. RUNNER_PYTHON swaps the runtime's Python for the host's own
 * interpreter: an escape hatch, labelled as such wherever runs are reported.
 */
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { detectCgroups, type CgroupSupport } from './cgroup.ts';
import { cacheBase, loadSpec, locate, readReport } from '../runtime/spec.ts';
import { findProgram } from '../runtime/programs.ts';
import { systemBinds } from '../runtime/system-root.ts';

const run = promisify(execFile);

export interface PythonInfo {
  /** The interpreter's path as the sandbox sees it. */
  executable: string;
  version: string;
  /** Directories outside /usr the interpreter needs (a venv or a pyenv build), bound read-only. */
  extraPrefixes: string[];
  /** Which of `optionalPythonModules` it can import (the service drivers). */
  optionalModules: string[];
}

/**
 * The system a sandbox sees as /usr: the pinned runtime root, or (RUNNER_PYTHON, or no
 * runtime built) the host's own. `label` is what run reports and recordings say.
 */
export interface SandboxSystem {
  /** Host path of the root whose /usr is bound; `/` for the host's own. */
  root: string;
  pinned: boolean;
  label: string;
  /** Versions the runtime reported when it was checked (pinned only). */
  versions: Record<string, string>;
}

export interface RunnerEnvironment {
  bwrap: string | undefined;
  prlimit: string | undefined;
  cgroups: CgroupSupport | undefined;
  python: PythonInfo | undefined;
  system: SandboxSystem;
  /** Why there is no Python for sandboxes, when there is none (what to run to get one). */
  pythonProblem: string | undefined;
  /** The Node binary sandboxes run under (the project's Node 24), real path. */
  node: string;
  /** Why isolation is unavailable, if it is. */
  isolationProblems: string[];
}

export const pythonModules = ['fastapi', 'uvicorn', 'httpx', 'aiosqlite'] as const;
/** Needed only by sandboxes that use a service (asyncpg for PostgreSQL, redis for Redis): looked for, not required. */
export const optionalPythonModules = ['asyncpg', 'redis', 'sqlalchemy'] as const;

const which = (name: string, dirs = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin']) => findProgram(name, dirs);

async function probePython(executable: string): Promise<PythonInfo | undefined> {
  const script = [
    'import sys, json, importlib.util',
    ...pythonModules.map((m) => `import ${m}`),
    `optional = [m for m in ${JSON.stringify(optionalPythonModules)} if importlib.util.find_spec(m)]`,
    'print(json.dumps({"exe": sys.executable, "version": sys.version.split()[0], "prefixes": sorted({sys.prefix, sys.base_prefix, sys.exec_prefix}), "optional": optional}))',
  ].join('; ');
  try {
    const { stdout } = await run(executable, ['-I', '-c', script], { timeout: 15_000, env: { PATH: '/usr/bin:/bin' } });
    const info = JSON.parse(stdout) as { exe: string; version: string; prefixes: string[]; optional: string[] };
    return {
      executable: info.exe,
      version: info.version,
      extraPrefixes: info.prefixes.filter((p) => p !== '/usr' && !p.startsWith('/usr/')),
      optionalModules: info.optional,
    };
  } catch {
    return undefined;
  }
}

/** The host's own /usr: what sandboxes see under RUNNER_PYTHON, or when nothing better is built. */
export function hostSystem(label: string): SandboxSystem {
  return { root: '/', pinned: false, label, versions: {} };
}

/** The first python3 on the host (PATH, then /usr/bin) that imports the lesson stack: unsafe mode's interpreter. */
export async function findHostPython(env: NodeJS.ProcessEnv = process.env): Promise<PythonInfo | undefined> {
  const pathDirs = (env.PATH ?? '').split(':').filter(Boolean);
  const candidates = new Set<string>();
  for (const dir of pathDirs) {
    const found = which('python3', [dir]);
    if (found) candidates.add(found);
  }
  candidates.add('/usr/bin/python3');
  for (const candidate of candidates) {
    const info = await probePython(candidate);
    if (info) return info;
  }
  return undefined;
}

type RuntimeFound = { system: SandboxSystem; python: PythonInfo } | { problem: string };

/** The pinned runtime, when src/runtime/build.ts has built and checked it for the current runtime.json. */
export function findRuntime(env: NodeJS.ProcessEnv = process.env): RuntimeFound {
  try {
    const { spec, hash } = loadSpec();
    const location = locate(hash, cacheBase(env));
    const report = readReport(location);
    if (!report || !existsSync(path.join(location.root, 'usr', 'bin', 'python3'))) {
      return { problem: `the sandbox runtime (${spec.release}) is not built at ${location.dir}: run npm start, or node_modules/.bin/node src/runtime/build.ts` };
    }
    const versions = report.versions;
    return {
      system: { root: location.root, pinned: true, label: `${spec.release} runtime (Python ${versions.python}, FastAPI ${versions.fastapi})`, versions },
      python: { executable: '/usr/bin/python3', version: versions.python ?? '?', extraPrefixes: [], optionalModules: report.pythonModules },
    };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

/** What sandboxes run on: the pinned runtime, or RUNNER_PYTHON (the host's interpreter), labelled. */
async function sandboxPython(env: NodeJS.ProcessEnv): Promise<{ system: SandboxSystem; python: PythonInfo | undefined; problem: string | undefined }> {
  if (env.RUNNER_PYTHON) {
    const python = await probePython(env.RUNNER_PYTHON);
    return {
      system: hostSystem(`your own interpreter (RUNNER_PYTHON=${env.RUNNER_PYTHON}): the lessons' claims may not hold`),
      python,
      problem: python ? undefined : `RUNNER_PYTHON=${env.RUNNER_PYTHON} cannot import ${pythonModules.join(', ')}`,
    };
  }
  const found = findRuntime(env);
  if ('problem' in found) return { system: hostSystem('no sandbox runtime'), python: undefined, problem: found.problem };
  return { ...found, problem: undefined };
}

export async function detectEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<RunnerEnvironment> {
  const bwrap = which('bwrap');
  const prlimit = which('prlimit');
  const cgroups = await detectCgroups();
  const { system, python, problem } = await sandboxPython(env);
  const problems: string[] = [];
  if (!bwrap) problems.push('bubblewrap (bwrap) is not installed: apt-get install bubblewrap');
  if (!prlimit) problems.push('prlimit is not installed: apt-get install util-linux');
  if (!cgroups) problems.push('cannot create cgroups for the pids and memory limits (run the runner as root, or delegate a cgroup v2 subtree)');
  if (bwrap && problems.length === 0) {
    try {
      await run(bwrap, ['--unshare-all', '--die-with-parent', ...systemBinds(system.root), '/usr/bin/true'], { timeout: 10_000, env: {} });
    } catch (err) {
      problems.push(`bwrap cannot create namespaces here: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { bwrap, prlimit, cgroups, python, system, pythonProblem: problem, node: realpathSync(process.execPath), isolationProblems: problems };
}

/** What a recording says Python sandboxes ran on, e.g. "Python 3.13.5 · FastAPI 0.115.11 · Debian 13 runtime". */
export function pythonRuntimeLabel(env: Pick<RunnerEnvironment, 'python' | 'system'>): string {
  const python = `Python ${env.python?.version ?? '?'}`;
  if (!env.system.pinned) return `${python} · ${env.system.label}`;
  return `${python} · FastAPI ${env.system.versions.fastapi ?? '?'} · ${env.system.label.split(' (')[0]}`;
}
