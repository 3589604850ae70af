/**
 * `node src/runtime/build.ts`: makes sure the pinned sandbox runtime is built, checked and
 * cached (run by `npm start`, `npm test` and `npm run sandbox` through
 * src/tools/ensure-runner-deps.sh). A root that passes its quick check is reused at
 * once; a missing one is built with mmdebstrap, with progress shown; a cached one that
 * fails its check is said to and rebuilt. Every failure it knows of prints one line saying
 * why and what to do, and ends with `explainedFailure`: the code ensure-runner-deps.sh
 * takes to mean "said"; any other code (Node crashing, a kill) gets the script's own line.
 *
 *   --print-root   print the root's path (after making sure it exists) and nothing else
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { checkRoot, RuntimeCheckError } from './check.ts';
import { cacheBase, loadSpec, locate, readReport, RuntimeSpecError, type RuntimeLocation, type RuntimeReport, type RuntimeSpec } from './spec.ts';
import { findProgram, isAlive } from './programs.ts';

const log = (line: string) => process.stderr.write(`[runtime] ${line}\n`);

class BuildError extends Error {}

/** Not 1, which Node itself ends with on an uncaught error: 3 means "the reason is printed". */
const explainedFailure = 3;

const mib = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Bytes under `dir`, counting each file once (hard links), never following links. */
async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const s = await stat(p).catch(() => undefined);
        if (!s) continue;
        const key = `${s.dev}:${s.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += s.blocks * 512;
      }
    }
  };
  await walk(dir);
  return total;
}

/**
 * mmdebstrap, with its own lines passed through as progress (phases, apt's download size,
 * each package fetched counted) and a ticker saying how long it has taken and how much
 * is on disk, so a first start never looks hung.
 */
async function mmdebstrap(spec: RuntimeSpec, target: string): Promise<void> {
  const program = findProgram('mmdebstrap');
  if (!program) throw new BuildError('mmdebstrap is missing: install it (Debian: apt-get install mmdebstrap), then start again');
  const root = process.getuid?.() === 0;
  const args = [
    '--variant=essential',
    `--mode=${root ? 'root' : 'unshare'}`,
    '--verbose',
    `--include=${spec.packages.join(',')}`,
    // The sandboxes need no documentation or translations: a smaller root, a faster build.
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    spec.suite,
    target,
    ...spec.mirrors,
  ];
  const started = performance.now();
  let fetched = 0;
  let lastPhase = '';
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  const tail: string[] = [];
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 12) tail.shift();
    if (/^Get:\d+ /.test(line)) fetched += 1;
    const need = /^Need to get ([\d.,]+ [kMG]?B)/.exec(line);
    if (need) log(`downloading ${need[1]} of Debian ${spec.suite} packages`);
    const after = /^After this operation, ([\d.,]+ [kMG]?B) of additional disk space/.exec(line);
    if (after) log(`${after[1]} once unpacked`);
    const phase = /^I: (.+?)\.*$/.exec(line);
    if (phase && phase[1] !== lastPhase && !phase[1]!.startsWith('running --')) {
      lastPhase = phase[1]!;
      log(`${lastPhase} (${seconds(performance.now() - started)}${fetched ? `, ${fetched} packages fetched` : ''})`);
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split(/\r?\n|\r/);
      rest = lines.pop() ?? '';
      for (const line of lines) onLine(line.trim());
    });
  }
  const ticker = setInterval(
    () => void diskUsage(target).then((bytes) => log(`… ${seconds(performance.now() - started)}, ${fetched} packages fetched, ${mib(bytes)} on disk`)),
    process.stderr.isTTY ? 5_000 : 15_000,
  );
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (c) => resolve(c));
  });
  clearInterval(ticker);
  if (code !== 0) {
    const last = tail.filter((l) => /^(E|W):|rror|fail/i.test(l)).slice(-2).join(' / ') || tail.slice(-2).join(' / ');
    throw new BuildError(
      `mmdebstrap failed (exit ${code}) building Debian ${spec.suite}: ${last || 'no message'} — check that ${spec.mirrors[0]!.split(' ')[1]} is reachable, then start again`,
    );
  }
}

/** Removes roots of other specs and half-built folders of builders that died: each is hundreds of MiB. */
async function prune(base: string, keep: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(base);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === keep) continue;
    const building = /^([0-9a-f]{16})\.building-(\d+)$/.exec(name);
    if (building && isAlive(Number(building[2]))) continue;
    if (!building && !/^[0-9a-f]{16}$/.test(name)) continue;
    log(`removing ${building ? 'an unfinished build' : 'an older runtime'}: ${path.join(base, name)}`);
    await rm(path.join(base, name), { recursive: true, force: true });
  }
}

async function build(spec: RuntimeSpec, location: RuntimeLocation, bwrap: string): Promise<RuntimeReport> {
  const base = path.dirname(location.dir);
  // 0755 all the way: the services run as unprivileged accounts and must reach the root.
  await mkdir(base, { recursive: true, mode: 0o755 });
  const staging = `${location.dir}.building-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o755 });
  const started = performance.now();
  log(`building the sandbox runtime (Debian ${spec.suite}, ${spec.packages.length} packages and their dependencies) into ${location.dir}`);
  log('this happens once per package list; later starts reuse it');
  try {
    await mmdebstrap(spec, path.join(staging, 'root'));
    await chmod(path.join(staging, 'root'), 0o755);
    log(`checking it: every module imports, versions as runtime.json names them, PostgreSQL and Redis start (${seconds(performance.now() - started)})`);
    const checked = await checkRoot(bwrap, path.join(staging, 'root'), spec, { quick: false });
    const bytes = await diskUsage(path.join(staging, 'root'));
    const report: RuntimeReport = {
      hash: location.hash,
      suite: spec.suite,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((performance.now() - started) / 100) / 10,
      bytes,
      versions: checked.versions,
      pythonModules: checked.pythonModules,
    };
    await writeFile(path.join(staging, 'report.json'), `${JSON.stringify(report, null, 2)}\n`, { mode: 0o644 });
    await rm(location.dir, { recursive: true, force: true });
    await rename(staging, location.dir);
    return report;
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** Builds when needed; returns the location and report of a checked root. */
export async function ensureRuntime(): Promise<{ location: RuntimeLocation; report: RuntimeReport; built: boolean }> {
  const { spec, hash } = loadSpec();
  const location = locate(hash, cacheBase());
  const bwrap = findProgram('bwrap');
  if (!bwrap) throw new BuildError('bubblewrap is missing: install it (Debian: apt-get install bubblewrap), then start again');
  const cached = readReport(location);
  if (cached && existsSync(path.join(location.root, 'usr', 'bin', 'python3'))) {
    try {
      const quick = await checkRoot(bwrap, location.root, spec, { quick: true });
      return { location, report: { ...cached, pythonModules: quick.pythonModules }, built: false };
    } catch (err) {
      log(`the cached runtime at ${location.dir} failed its check (${(err as Error).message}): rebuilding it`);
    }
  } else if (existsSync(location.dir)) {
    log(`the cached runtime at ${location.dir} is incomplete: rebuilding it`);
  }
  const report = await build(spec, location, bwrap);
  await prune(path.dirname(location.dir), hash);
  return { location, report, built: true };
}

async function main(): Promise<void> {
  const printRoot = process.argv.includes('--print-root');
  try {
    const { location, report, built } = await ensureRuntime();
    if (built) {
      const v = report.versions;
      log(
        `ready in ${report.buildSeconds} s: ${mib(report.bytes)} on disk at ${location.root} — Python ${v.python}, FastAPI ${v.fastapi}, ` +
          `PostgreSQL ${v.postgresql}, Redis ${v['redis-server']}`,
      );
    }
    if (printRoot) process.stdout.write(`${location.root}\n`);
  } catch (err) {
    const known = err instanceof BuildError || err instanceof RuntimeSpecError || err instanceof RuntimeCheckError;
    const message = known ? (err as Error).message : `unexpected error: ${(err as Error).stack ?? String(err)}`;
    process.stderr.write(`[runtime] cannot prepare the sandbox runtime: ${message}\n`);
    process.exit(explainedFailure);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
