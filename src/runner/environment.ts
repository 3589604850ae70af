/**
 * What the runner needs from the machine, found once at start: bubblewrap, cgroups,
 * prlimit, a Python that imports the lesson stack, and the project's Node. Missing
 * isolation is never skipped silently: `detectEnvironment` reports it and the runner
 * refuses to start unless explicitly told to run unsafely.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { detectCgroups, type CgroupSupport } from './cgroup.ts';

const run = promisify(execFile);

export interface PythonInfo {
  executable: string;
  version: string;
  /** Directories outside /usr the interpreter needs (a venv or a pyenv build), bound read-only. */
  extraPrefixes: string[];
  /** Which of `optionalPythonModules` it can import (the service drivers). */
  optionalModules: string[];
}

export interface RunnerEnvironment {
  bwrap: string | undefined;
  prlimit: string | undefined;
  cgroups: CgroupSupport | undefined;
  python: PythonInfo | undefined;
  /** The Node binary sandboxes run under (the project's Node 24), real path. */
  node: string;
  /** Why isolation is unavailable, if it is. */
  isolationProblems: string[];
}

export const pythonModules = ['fastapi', 'uvicorn', 'httpx', 'aiosqlite'] as const;
/** Needed only by sandboxes that use a service (asyncpg for PostgreSQL, redis for Redis): looked for, not required. */
export const optionalPythonModules = ['asyncpg', 'redis', 'sqlalchemy'] as const;

function which(name: string, dirs = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin']): string | undefined {
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

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

/** RUNNER_PYTHON if set, else the first python3 (PATH, then /usr/bin) that imports the lesson stack. */
export async function findPython(env: NodeJS.ProcessEnv = process.env): Promise<PythonInfo | undefined> {
  if (env.RUNNER_PYTHON) return probePython(env.RUNNER_PYTHON);
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

export async function detectEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<RunnerEnvironment> {
  const bwrap = which('bwrap');
  const prlimit = which('prlimit');
  const cgroups = await detectCgroups();
  const python = await findPython(env);
  const problems: string[] = [];
  if (!bwrap) problems.push('bubblewrap (bwrap) is not installed: apt-get install bubblewrap');
  if (!prlimit) problems.push('prlimit is not installed: apt-get install util-linux');
  if (!cgroups) problems.push('cannot create cgroups for the pids and memory limits (run the runner as root, or delegate a cgroup v2 subtree)');
  if (bwrap && problems.length === 0) {
    try {
      await run(bwrap, ['--unshare-all', '--die-with-parent', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '/usr/bin/true'], {
        timeout: 10_000,
        env: {},
      });
    } catch (err) {
      problems.push(`bwrap cannot create namespaces here: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { bwrap, prlimit, cgroups, python, node: realpathSync(process.execPath), isolationProblems: problems };
}
