/**
 * The set-up scripts that start `npm start` and `npm test` (src/tools/bootstrap.sh,
 * ensure-runner-deps.sh, ensure-chromium.sh, and src/runtime/build.ts behind them), run
 * for real against simulated machines. A machine is a temporary folder whose `bin/` is
 * the ONLY entry on PATH: stub commands (apt-get, id, mmdebstrap, bwrap, prlimit, …)
 * that log how they were called and act as the case needs, next to links to the few real
 * basic tools the scripts use. Nothing touches the real apt, the network or the real
 * runtime cache. Their one promise is held here: no run ends non-zero without a line
 * saying why.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSpec, locate } from '../../src/runtime/spec.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const realNode = path.join(projectRoot, 'node_modules', '.bin', 'node');
const workDir = await mkdtemp(path.join(tmpdir(), 'asynclab-setup-'));
after(() => rm(workDir, { recursive: true, force: true }));

type Script = 'bootstrap' | 'ensure-runner-deps' | 'ensure-chromium';
type HostProgram = 'bwrap' | 'prlimit' | 'setpriv' | 'mmdebstrap' | 'newuidmap';
const hostPrograms: readonly HostProgram[] = ['bwrap', 'prlimit', 'setpriv', 'mmdebstrap', 'newuidmap'];

/** What each Debian package brings onto the simulated machine when the apt-get stub "installs" it. */
const packageFiles: Record<string, string[]> = {
  bubblewrap: ['bin/bwrap'],
  'util-linux': ['bin/prlimit', 'bin/setpriv'],
  mmdebstrap: ['bin/mmdebstrap'],
  uidmap: ['bin/newuidmap'],
  chromium: ['usr/bin/chromium'],
};

/** Real tools the scripts may use (linked into bin/); everything else on PATH is a stub. */
const basicTools = ['dirname', 'basename', 'sed', 'grep', 'cat', 'env', 'mkdir', 'rm', 'tail', 'mktemp', 'readlink'] as const;
type BasicTool = (typeof basicTools)[number];

/**
 * node_modules/.bin/node of the simulated project: the real Node (build.ts under test),
 * a stub whose build.ts step succeeds, explains a failure the way build.ts does, ends 1
 * without a word, or is killed; or none.
 */
type ProjectNode = 'real' | 'ok' | 'explains' | 'silent-1' | 'killed' | 'absent';

interface MachineOptions {
  /** `id -u` prints 0. */
  root?: boolean;
  /** apt-get: missing, working, failing to download, `update` failing (install works), or installing but leaving no programs. */
  apt?: 'none' | 'ok' | 'install-fails' | 'update-fails' | 'installs-nothing';
  /** The runner's host programs present from the start (default: all). */
  programs?: readonly HostProgram[];
  /** What the host's `node --version` prints; 'absent': no node on PATH. */
  hostNode?: string;
  npm?: 'absent' | 'ok' | 'fails';
  /** node_modules installed and newer than the lock file, so bootstrap needs no npm install. */
  installed?: boolean;
  projectNode?: ProjectNode;
  /** The Node version `npm install` brings (node_modules/.bin/node --version). */
  installedNodeVersion?: string;
  /** Debian's Chromium is at its place. */
  chromium?: boolean;
  mmdebstrap?: 'builds' | 'fails';
  /** python3 / python stubs on PATH (they log, so a test can tell whether anything looked for Python). */
  python?: boolean;
  /** Basic tools that fail without a word (exit 1, nothing printed): a broken host. */
  broken?: readonly BasicTool[];
}

interface Call {
  name: string;
  args: string[];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  calls: Call[];
}

interface Machine {
  dir: string;
  project: string;
  bin: string;
  log: string;
  cache: string;
  /** Where "Debian's" Chromium lives on this machine. */
  chromium: string;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A stub: appends its name and argv to the log (fields split by \037, calls by \036, so
 * arguments with newlines, like the Python probe, survive), then runs `body`. The log
 * path is written in, because check.ts runs bwrap with an empty environment.
 */
function stubScript(log: string, name: string, body: string): string {
  return `#!/bin/sh\nprintf '%s\\037' ${shq(name)} "$@" >>${shq(log)}\nprintf '\\036' >>${shq(log)}\n${body}\n`;
}

async function writeExecutable(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  await chmod(file, 0o755);
}

function realTool(name: string): string {
  for (const dir of ['/usr/bin', '/bin']) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  throw new Error(`this host has no ${name}`);
}

const spec = loadSpec(path.join(projectRoot, 'sandboxes', '_runtime', 'runtime.json')).spec;

/** What the Python probe in check.ts prints from a good root: every version as runtime.json wants it. */
function probeJson(): string {
  const versions: Record<string, string> = {};
  for (const [name, wanted] of Object.entries(spec.versions)) {
    if (name !== 'postgresql' && name !== 'redis-server') versions[name] = `${wanted}.1`;
  }
  return JSON.stringify({ versions, modules: ['asyncpg', 'redis', 'sqlalchemy'] });
}

/**
 * bwrap: finds the root bound as /usr and answers the check's commands the way a good
 * root does; a root without usr/bin/python3 fails like bwrap's execvp, and one holding a
 * DAMAGED marker fails the import like a broken Python tree.
 */
function bwrapBody(): string {
  const pgMajor = spec.versions.postgresql!.split('.')[0]!;
  return `
usr=; prev=; prev2=
while [ $# -gt 0 ]; do
  [ "$1" = -- ] && { shift; break; }
  [ "$1" = /usr ] && [ "$prev2" = --ro-bind ] && usr=$prev
  prev2=$prev; prev=$1; shift
done
root=\${usr%/usr}
if [ "$1" = /usr/bin/python3 ] && [ ! -e "$usr/bin/python3" ]; then echo "bwrap: execvp /usr/bin/python3: No such file or directory" >&2; exit 1; fi
if [ -e "$root/DAMAGED" ]; then echo "Traceback (most recent call last):" >&2; echo "ModuleNotFoundError: No module named 'fastapi'" >&2; exit 1; fi
case $1 in
  /usr/bin/python3) printf '%s\\n' ${shq(probeJson())} ;;
  /usr/lib/postgresql/${pgMajor}/bin/postgres) echo 'postgres (PostgreSQL) ${spec.versions.postgresql}.6 (Debian)' ;;
  /usr/bin/redis-server) echo 'Redis server v=${spec.versions['redis-server']}.2 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64' ;;
  /bin/sh) echo ok ;;
  *) echo "bwrap stub: nothing simulated for $1" >&2; exit 1 ;;
esac`;
}

/** mmdebstrap: builds a tiny "root" (usr/bin/python3) with mmdebstrap-like progress, or fails like an unreachable mirror. */
function mmdebstrapBody(mode: 'builds' | 'fails'): string {
  if (mode === 'fails') {
    return `echo "I: running apt-get update..." >&2
echo "E: Failed to fetch http://deb.debian.org/debian/dists/trixie/InRelease  Could not resolve 'deb.debian.org'" >&2
echo "E: apt-get update failed" >&2
exit 1`;
  }
  return `suite=; target=
for a; do case $a in --*) ;; *) if [ -z "$suite" ]; then suite=$a; elif [ -z "$target" ]; then target=$a; fi ;; esac; done
[ -n "$target" ] || { echo "mmdebstrap stub: no target" >&2; exit 2; }
echo "I: chroot architecture amd64 is equal to the host's architecture" >&2
echo "I: running apt-get update..." >&2
echo "Need to get 95.3 MB of archives."
echo "After this operation, 412 MB of additional disk space will be used."
echo "Get:1 http://deb.debian.org/debian $suite/main amd64 python3 3.13.5-1 [28.3 kB]"
echo "I: extracting archives..." >&2
${realTool('mkdir')} -p "$target/usr/bin" && : >"$target/usr/bin/python3" || exit 1
echo "I: success in 1.0 seconds" >&2`;
}

let machines = 0;

async function makeMachine(options: MachineOptions = {}): Promise<Machine> {
  const o = {
    root: true,
    apt: 'ok',
    programs: hostPrograms,
    hostNode: 'v20.19.2',
    npm: 'ok',
    installed: true,
    projectNode: 'ok',
    installedNodeVersion: 'v24.21.0',
    chromium: false,
    mmdebstrap: 'builds',
    python: true,
    broken: [],
    ...options,
  } satisfies Required<MachineOptions>;
  const dir = path.join(workDir, `m${++machines}`);
  const bin = path.join(dir, 'bin');
  const project = path.join(dir, 'project');
  const log = path.join(dir, 'calls.log');
  const pool = path.join(dir, 'pool');
  const m: Machine = { dir, project, bin, log, cache: path.join(dir, 'cache'), chromium: path.join(dir, 'usr', 'bin', 'chromium') };
  for (const d of [bin, path.join(dir, 'tmp'), path.join(dir, 'home'), pool]) await mkdir(d, { recursive: true });
  await writeFile(log, '');
  const stub = (file: string, name: string, body: string) => writeExecutable(file, stubScript(log, name, body));

  // The project, as far as the scripts and build.ts read it.
  const shellScripts = (await readdir(path.join(projectRoot, 'src', 'tools'))).filter((name) => name.endsWith('.sh')).map((name) => `src/tools/${name}`);
  await Promise.all(
    [...shellScripts, 'src/runtime', 'sandboxes/_runtime/runtime.json', 'package.json', 'package-lock.json'].map((rel) =>
      cp(path.join(projectRoot, rel), path.join(project, rel), { recursive: true }),
    ),
  );
  const modules = path.join(project, 'node_modules');
  await mkdir(path.join(modules, '.bin'), { recursive: true });
  // spec.ts imports astro/zod: Node resolves it (and its dependencies) from the real install.
  await symlink(path.join(projectRoot, 'node_modules', 'astro'), path.join(modules, 'astro'));

  const nodeStub = (kind: ProjectNode, version: string) => {
    const build: Record<Exclude<ProjectNode, 'real' | 'absent'>, string> = {
      ok: 'echo "[runtime] (simulated) the runtime is ready" >&2; exit 0',
      explains: 'echo "[runtime] cannot prepare the sandbox runtime: (simulated) mmdebstrap failed" >&2; exit 3',
      'silent-1': 'exit 1',
      killed: 'exit 137',
    };
    return `[ "$1" = --version ] && { echo ${version}; exit 0; }\n${build[kind as keyof typeof build]}`;
  };
  const installProjectNode = async (into: string, kind: ProjectNode, version: string) => {
    if (kind === 'absent') return;
    if (kind === 'real') await symlink(realNode, path.join(into, '.bin', 'node'));
    else await stub(path.join(into, '.bin', 'node'), 'project-node', nodeStub(kind, version));
    await stub(path.join(into, '.bin', 'astro'), 'astro', 'exit 0');
    await writeFile(path.join(into, '.package-lock.json'), '{}\n');
  };
  if (o.installed) await installProjectNode(modules, o.projectNode, 'v24.21.0');
  // What `npm install` puts in node_modules.
  const payload = path.join(dir, 'npm-payload');
  await mkdir(path.join(payload, '.bin'), { recursive: true });
  await installProjectNode(payload, o.projectNode === 'absent' || o.projectNode === 'real' ? 'ok' : o.projectNode, o.installedNodeVersion);
  // The lock file older than node_modules' copy of it: installed and up to date.
  const then = new Date(Date.now() - 60_000);
  await utimes(path.join(project, 'package-lock.json'), then, then);

  // Real basic tools, or broken ones that fail without a word.
  await Promise.all(
    basicTools.map((tool) =>
      o.broken.includes(tool) ? writeExecutable(path.join(bin, tool), '#!/bin/sh\nexit 1\n') : symlink(realTool(tool), path.join(bin, tool)),
    ),
  );
  // sh logs, so a test sees the re-exec of ensure-runner-deps.sh.
  await stub(path.join(bin, 'sh'), 'sh', 'exec /bin/sh "$@"');
  await stub(path.join(bin, 'id'), 'id', `[ "$1" = -u ] && { echo ${o.root ? 0 : 1000}; exit 0; }\necho "uid=${o.root ? '0(root)' : '1000(dev)'}"`);

  // The host programs: present now, and in the pool for apt-get to "install".
  const programBody: Record<string, string> = {
    bwrap: bwrapBody(),
    mmdebstrap: mmdebstrapBody(o.mmdebstrap),
    chromium: 'echo "Chromium 140.0 (simulated)"',
  };
  for (const [pkg, files] of Object.entries(packageFiles)) {
    for (const rel of files) {
      const name = path.basename(rel);
      const body = programBody[name] ?? 'exit 0';
      if (o.apt !== 'installs-nothing') await stub(path.join(pool, pkg, rel), name, body);
      else await mkdir(path.join(pool, pkg), { recursive: true });
      const present = name === 'chromium' ? o.chromium : o.programs.includes(name as HostProgram);
      if (present) await stub(path.join(dir, rel), name, body);
    }
  }

  if (o.apt !== 'none') {
    await stub(
      path.join(bin, 'apt-get'),
      'apt-get',
      `pool=${shq(pool)}; machine=${shq(dir)}
case $1 in
  update) ${o.apt === 'update-fails' ? 'echo "E: The repository is not reachable" >&2; exit 100' : 'exit 0'} ;;
  install) ;;
  *) echo "apt-get stub: unexpected $1" >&2; exit 100 ;;
esac
shift
for p; do case $p in -*) ;; *) [ -d "$pool/$p" ] || { echo "E: Unable to locate package $p" >&2; exit 100; } ;; esac; done
${
  o.apt === 'install-fails'
    ? `echo "Err:1 http://deb.debian.org/debian trixie/main amd64 bubblewrap amd64 0.11.0-2" >&2
echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/b/bubblewrap/bubblewrap_0.11.0-2_amd64.deb  Temporary failure resolving 'deb.debian.org'" >&2
exit 100`
    : ''
}
for p; do case $p in -*) ;; *) ${realTool('cp')} -R "$pool/$p/." "$machine/" || exit 100 ;; esac; done
echo "Setting up the packages (simulated)"`,
    );
  }

  if (o.hostNode !== 'absent') await stub(path.join(bin, 'node'), 'node', `[ "$1" = --version ] && { echo ${shq(o.hostNode)}; exit 0; }\nexit 0`);
  if (o.npm !== 'absent') {
    await stub(
      path.join(bin, 'npm'),
      'npm',
      o.npm === 'fails'
        ? 'echo "npm error code EAI_AGAIN" >&2; echo "npm error request to https://registry.npmjs.org/astro failed" >&2; exit 1'
        : `[ "$1" = ci ] || exit 0\n${realTool('mkdir')} -p node_modules && ${realTool('cp')} -R ${shq(payload)}/. node_modules/`,
    );
  }
  if (o.python) {
    for (const name of ['python3', 'python']) await stub(path.join(bin, name), name, 'echo "Python 3.11.2"');
  }
  return m;
}

async function readCalls(log: string): Promise<Call[]> {
  const text = await readFile(log, 'utf8');
  return text
    .split('\x1e')
    .filter((record) => record.length > 0)
    .map((record) => {
      const fields = record.split('\x1f');
      fields.pop(); // each field ends with \037
      return { name: fields[0]!, args: fields.slice(1) };
    });
}

interface RunOptions {
  env?: Record<string, string>;
  /** Where the script is started from, relative to the project (default: the project itself). */
  cwd?: string;
}

async function runScript(m: Machine, script: Script, options: RunOptions = {}): Promise<Run> {
  const cwd = path.join(m.project, options.cwd ?? '.');
  const scriptPath = path.relative(cwd, path.join(m.project, 'src', 'tools', `${script}.sh`));
  const env: Record<string, string> = {
    PATH: m.bin,
    HOME: path.join(m.dir, 'home'),
    TMPDIR: path.join(m.dir, 'tmp'),
    LANG: 'C.UTF-8',
    ASYNCLAB_RUNTIME_CACHE: m.cache,
    ASYNCLAB_DEBIAN_CHROMIUM: m.chromium,
    ...options.env,
  };
  const child = spawn('/bin/sh', [scriptPath], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr, calls: await readCalls(m.log) };
}

const callsTo = (run: Run, name: string) => run.calls.filter((c) => c.name === name);
const stderrLines = (run: Run) => run.stderr.split('\n').filter((l) => l.trim() !== '');
const describe = (run: Run) => `exit ${run.code}\n--- stderr ---\n${run.stderr}--- stdout ---\n${run.stdout}--- calls ---\n${run.calls.map((c) => [c.name, ...c.args].join(' ').slice(0, 160)).join('\n')}`;

/** The promise under test: a non-zero end comes with a line naming the script (or build.ts's `[runtime]`) and why. */
function assertExplained(run: Run, script: Script, what: string): void {
  if (run.code === 0) return;
  const said = stderrLines(run).filter((line) => line.includes(script) || line.startsWith('[runtime]'));
  assert.ok(said.length > 0, `${what}: ${script} ended non-zero without a line saying why\n${describe(run)}`);
}

/** Every scenario is registered here as well, so the walk at the end runs them all again under the generic rule. */
interface Scenario {
  name: string;
  script: Script;
  machine: MachineOptions;
  run?: RunOptions;
}
const scenarios: Scenario[] = [];
function scenario(s: Scenario): Scenario {
  scenarios.push(s);
  return s;
}
async function play(s: Scenario): Promise<{ run: Run; machine: Machine }> {
  const machine = await makeMachine(s.machine);
  const run = await runScript(machine, s.script, s.run);
  assertExplained(run, s.script, s.name);
  return { run, machine };
}

const installArgs = (run: Run) => callsTo(run, 'apt-get').filter((c) => c.args[0] === 'install').map((c) => c.args);

// ---------------------------------------------------------------------------------------
// ensure-runner-deps.sh: the host packages
// ---------------------------------------------------------------------------------------

const nothingInstalledRoot = scenario({
  name: 'nothing installed, root with apt',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'ok', programs: [], projectNode: 'real' },
});

test('root with apt: installs exactly the missing packages, re-checks, then builds the runtime', async () => {
  const { run, machine } = await play(nothingInstalledRoot);
  assert.equal(run.code, 0, describe(run));
  // Root builds with --mode=root: uidmap is not needed, so not installed.
  assert.deepEqual(installArgs(run), [['install', '-y', '-qq', '--no-install-recommends', 'bubblewrap', 'util-linux', 'mmdebstrap']]);
  assert.ok(callsTo(run, 'apt-get').some((c) => c.args[0] === 'update'));
  // The re-check is a fresh run of the script, which then finds everything and goes on.
  const reexec = callsTo(run, 'sh');
  assert.equal(reexec.length, 1, describe(run));
  assert.match(reexec[0]!.args[0]!, /src\/tools\/ensure-runner-deps\.sh$/);
  assert.equal(callsTo(run, 'mmdebstrap').length, 1, 'the freshly installed mmdebstrap builds the runtime');
  assert.match(run.stderr, /\[runtime\] ready in/);
  const { hash } = loadSpec(path.join(machine.project, 'sandboxes', '_runtime', 'runtime.json'));
  assert.ok(existsSync(locate(hash, machine.cache).report), 'the checked root is cached under ASYNCLAB_RUNTIME_CACHE');
});

const partlyInstalled = scenario({
  name: 'root with apt, only setpriv and mmdebstrap missing',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'ok', programs: ['bwrap', 'prlimit', 'newuidmap'] },
});

test('root with apt: a package partly present is installed, the present ones are not', async () => {
  const { run } = await play(partlyInstalled);
  assert.equal(run.code, 0, describe(run));
  assert.deepEqual(installArgs(run), [['install', '-y', '-qq', '--no-install-recommends', 'util-linux', 'mmdebstrap']]);
  assert.equal(callsTo(run, 'project-node').length, 1, 'build.ts runs once, after the re-check');
});

const startedElsewhere = scenario({
  name: 'root with apt, started from another folder by a relative path',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'ok', programs: ['bwrap', 'prlimit', 'setpriv'] },
  run: { cwd: 'src' },
});

test('the re-check after installing works whatever folder the script was started from', async () => {
  const { run } = await play(startedElsewhere);
  assert.equal(run.code, 0, describe(run));
  assert.deepEqual(installArgs(run), [['install', '-y', '-qq', '--no-install-recommends', 'mmdebstrap']]);
  assert.equal(callsTo(run, 'project-node').length, 1, describe(run));
});

const nothingInstalledUser = scenario({
  name: 'nothing installed, not root',
  script: 'ensure-runner-deps',
  machine: { root: false, apt: 'ok', programs: [] },
});
const nothingInstalledNoApt = scenario({
  name: 'nothing installed, root without apt-get',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'none', programs: ['bwrap'] },
});

test('not root, or no apt-get: one line naming exactly what to install, apt-get never called', async () => {
  const user = (await play(nothingInstalledUser)).run;
  assert.equal(user.code, 1);
  assert.deepEqual(stderrLines(user), [
    'ensure-runner-deps: the local runner needs: bubblewrap util-linux mmdebstrap uidmap. Run: sudo apt-get install bubblewrap util-linux mmdebstrap uidmap',
  ]);
  assert.equal(callsTo(user, 'apt-get').length, 0);
  assert.equal(callsTo(user, 'project-node').length, 0, 'no build without the programs');

  const noApt = (await play(nothingInstalledNoApt)).run;
  assert.equal(noApt.code, 1);
  assert.deepEqual(stderrLines(noApt), [
    'ensure-runner-deps: the local runner needs: util-linux mmdebstrap. Run: sudo apt-get install util-linux mmdebstrap',
  ]);
});

const downloadFails = scenario({
  name: 'apt-get install fails to download',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'install-fails', programs: ['prlimit', 'setpriv', 'mmdebstrap'] },
});
const updateFails = scenario({
  name: 'apt-get update fails, the install works',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'update-fails', programs: ['prlimit', 'setpriv', 'mmdebstrap'] },
});

test('a failed download says what failed and what to run; a failed update alone is only a warning', async () => {
  const failed = (await play(downloadFails)).run;
  assert.equal(failed.code, 1);
  const last = stderrLines(failed).at(-1)!;
  assert.match(last, /^ensure-runner-deps: apt-get could not install bubblewrap \(exit 100: E: Failed to fetch .*bubblewrap.*\); run 'apt-get install bubblewrap'/);
  assert.equal(callsTo(failed, 'sh').length, 0, 'no re-check after a failed install');
  assert.equal(callsTo(failed, 'project-node').length, 0);

  const updated = (await play(updateFails)).run;
  assert.equal(updated.code, 0, describe(updated));
  assert.match(updated.stderr, /ensure-runner-deps: 'apt-get update' failed; trying the install/);
  assert.equal(installArgs(updated).length, 1);
});

const installsNothing = scenario({
  name: 'apt-get says it installed, but the programs are not there',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'installs-nothing', programs: ['bwrap', 'prlimit', 'setpriv'] },
});

test('packages installed but still missing: the re-check says so instead of looping', async () => {
  const { run } = await play(installsNothing);
  assert.equal(run.code, 1);
  assert.equal(installArgs(run).length, 1, 'apt-get install is tried once');
  assert.match(stderrLines(run).at(-1)!, /^ensure-runner-deps: still missing after installing them: mmdebstrap/);
});

// The original bug: `$(find_python)` returned non-zero under `set -e` and the script ended 1 in silence.
const noPythonTried = scenario({
  name: 'no python3 anywhere, ASYNCLAB_DEPS_TRIED=1',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'ok', programs: [], python: false },
  run: { env: { ASYNCLAB_DEPS_TRIED: '1' } },
});
const noPythonReady = scenario({
  name: 'no python3 anywhere, everything else present',
  script: 'ensure-runner-deps',
  machine: { root: true, python: false },
  run: { env: { ASYNCLAB_DEPS_TRIED: '1' } },
});

test('the original bug: no python3 and ASYNCLAB_DEPS_TRIED=1 still ends with a line; Python is never looked for', async () => {
  const tried = (await play(noPythonTried)).run;
  assert.equal(tried.code, 1);
  assert.deepEqual(stderrLines(tried), ['ensure-runner-deps: still missing after installing them: bubblewrap util-linux mmdebstrap (is the PATH missing /usr/bin?)']);
  const ready = (await play(noPythonReady)).run;
  assert.equal(ready.code, 0, describe(ready));
  // With python stubs on PATH, nothing calls them: the host's Python plays no part any more.
  const withPython = (await play(scenario({ name: 'python stubs present', script: 'ensure-runner-deps', machine: { root: false } }))).run;
  assert.equal(withPython.code, 0, describe(withPython));
  assert.deepEqual([...callsTo(withPython, 'python3'), ...callsTo(withPython, 'python')], []);
  for (const file of ['ensure-runner-deps.sh', 'host-lib.sh', 'host-packages.sh', 'bootstrap.sh']) {
    const code = (await readFile(path.join(projectRoot, 'src', 'tools', file), 'utf8')).split('\n').filter((l) => !/^\s*#/.test(l));
    assert.ok(!code.some((l) => /python/i.test(l)), `${file} still mentions python outside comments`);
  }
});

const buildExplains = scenario({ name: 'build.ts fails and explains', script: 'ensure-runner-deps', machine: { projectNode: 'explains' } });
const buildSilent = scenario({ name: 'build.ts ends 1 without a word', script: 'ensure-runner-deps', machine: { projectNode: 'silent-1' } });
const buildKilled = scenario({ name: 'build.ts killed', script: 'ensure-runner-deps', machine: { projectNode: 'killed' } });
const buildNoNode = scenario({ name: 'no node_modules/.bin/node', script: 'ensure-runner-deps', machine: { projectNode: 'absent', installed: false } });

test('the runtime step: build.ts explains its own failures; anything else gets a line from the script', async () => {
  const explains = (await play(buildExplains)).run;
  assert.equal(explains.code, 1);
  assert.deepEqual(stderrLines(explains), ['[runtime] cannot prepare the sandbox runtime: (simulated) mmdebstrap failed'], 'one line, not two');
  const silent = (await play(buildSilent)).run;
  assert.equal(silent.code, 1);
  assert.match(stderrLines(silent).at(-1)!, /^ensure-runner-deps: building the sandbox runtime stopped with exit code 1/);
  const killed = (await play(buildKilled)).run;
  assert.equal(killed.code, 1);
  assert.match(stderrLines(killed).at(-1)!, /exit code 137 \(killed\?\)/);
  const none = (await play(buildNoNode)).run;
  assert.equal(none.code, 1);
  assert.match(stderrLines(none).at(-1)!, /node_modules\/\.bin\/node is missing: run 'npm ci' first/);
});

// ---------------------------------------------------------------------------------------
// build.ts (the real one, on the real Node) with stub mmdebstrap and bwrap
// ---------------------------------------------------------------------------------------

/** Puts a built-and-checked root in the machine's cache, as an earlier build.ts run would have left it. */
async function cacheRuntime(m: Machine, damaged: boolean): Promise<string> {
  const { hash } = loadSpec(path.join(m.project, 'sandboxes', '_runtime', 'runtime.json'));
  const location = locate(hash, m.cache);
  await mkdir(path.join(location.root, 'usr', 'bin'), { recursive: true });
  await writeFile(path.join(location.root, 'usr', 'bin', 'python3'), '');
  if (damaged) await writeFile(path.join(location.root, 'DAMAGED'), '');
  const report = { hash, suite: spec.suite, builtAt: '2025-01-01T00:00:00.000Z', buildSeconds: 1, bytes: 1, versions: {}, pythonModules: [] };
  await writeFile(location.report, JSON.stringify(report));
  return location.report;
}

test('build.ts: a cached root that fails its quick check is said to fail, rebuilt, and then used', async () => {
  const m = await makeMachine({ projectNode: 'real' });
  const report = await cacheRuntime(m, true);
  const run = await runScript(m, 'ensure-runner-deps');
  assert.equal(run.code, 0, describe(run));
  assert.match(run.stderr, /\[runtime\] the cached runtime at .* failed its check \(.*No module named 'fastapi'.*\): rebuilding it/);
  assert.equal(callsTo(run, 'mmdebstrap').length, 1);
  assert.match(run.stderr, /\[runtime\] ready in/);
  assert.notEqual(JSON.parse(await readFile(report, 'utf8')).builtAt, '2025-01-01T00:00:00.000Z', 'a new report');
  assert.ok(!existsSync(path.join(path.dirname(report), 'root', 'DAMAGED')), 'the damaged root is gone');
});

test('build.ts: a cached root with a good report is reused without mmdebstrap', async () => {
  const m = await makeMachine({ projectNode: 'real' });
  await cacheRuntime(m, false);
  const run = await runScript(m, 'ensure-runner-deps');
  assert.equal(run.code, 0, describe(run));
  assert.equal(callsTo(run, 'mmdebstrap').length, 0, describe(run));
  assert.equal(callsTo(run, 'bwrap').length, 1, 'one quick check');
  assert.equal(run.stderr, '', 'nothing to say when the cache is good');
});

const mirrorDown = scenario({
  name: 'mmdebstrap cannot reach the mirror',
  script: 'ensure-runner-deps',
  machine: { projectNode: 'real', mmdebstrap: 'fails' },
});

test('build.ts: mmdebstrap failing ends with one line naming the mirror and what to do', async () => {
  const { run, machine } = await play(mirrorDown);
  assert.equal(run.code, 1);
  const last = stderrLines(run).at(-1)!;
  assert.match(last, /^\[runtime\] cannot prepare the sandbox runtime: mmdebstrap failed \(exit 1\) building Debian trixie: .*E: .*/);
  assert.match(last, /check that http:\/\/deb\.debian\.org\/debian is reachable, then start again/);
  assert.equal(stderrLines(run).filter((l) => l.startsWith('ensure-runner-deps:')).length, 0, 'no second line from the script');
  const { hash } = loadSpec(path.join(machine.project, 'sandboxes', '_runtime', 'runtime.json'));
  assert.ok(!existsSync(locate(hash, machine.cache).dir), 'no half-built root is left as if it were one');
});

// ---------------------------------------------------------------------------------------
// bootstrap.sh
// ---------------------------------------------------------------------------------------

const noNpm = scenario({ name: 'npm missing', script: 'bootstrap', machine: { npm: 'absent', installed: false } });
const noHostNode = scenario({ name: 'node missing', script: 'bootstrap', machine: { hostNode: 'absent', installed: false } });
const oldNode = scenario({ name: 'Node 16', script: 'bootstrap', machine: { hostNode: 'v16.20.2', installed: false } });
const debian12Node = scenario({ name: 'Node 18 (Debian 12)', script: 'bootstrap', machine: { hostNode: 'v18.19.0', installed: false } });
const npmFails = scenario({ name: 'npm install fails', script: 'bootstrap', machine: { npm: 'fails', installed: false } });
const wrongProjectNode = scenario({ name: 'npm install brings Node 22', script: 'bootstrap', machine: { installed: false, installedNodeVersion: 'v22.1.0' } });
const freshInstall = scenario({ name: 'npm install needed and works', script: 'bootstrap', machine: { installed: false } });
const upToDate = scenario({ name: 'node_modules up to date', script: 'bootstrap', machine: { installed: true } });

test('bootstrap: npm or node missing, Node too old, npm install failing: each says so', async () => {
  const npm = (await play(noNpm)).run;
  assert.equal(npm.code, 1);
  assert.deepEqual(stderrLines(npm), ['bootstrap: npm is missing: install Node.js 18 or newer with npm (Debian: sudo apt-get install nodejs npm)']);
  const node = (await play(noHostNode)).run;
  assert.equal(node.code, 1);
  assert.match(stderrLines(node)[0]!, /^bootstrap: node is missing: .*apt-get install nodejs npm/);
  const old = (await play(oldNode)).run;
  assert.equal(old.code, 1);
  assert.deepEqual(stderrLines(old), [
    'bootstrap: Node.js v16.20.2 is too old to install the project: install Node.js 18 or newer (the project then brings its own Node 24)',
  ]);
  assert.equal(callsTo(old, 'npm').length, 0);
  // Debian 12's own nodejs is 18: enough to run npm ci, after which everything runs on Node 24.
  const debian12 = (await play(debian12Node)).run;
  assert.equal(debian12.code, 0, describe(debian12));
  assert.deepEqual(callsTo(debian12, 'npm').map((c) => c.args[0]), ['ci']);
  // …where npm skips native packages that need Node 20.19+, so the same npm runs again on Node 24.
  const second = callsTo(debian12, 'project-node').filter((c) => c.args.includes('ci'));
  assert.equal(second.length, 1, describe(debian12));
  assert.match(second[0]!.args[0]!, /\/npm$/);
  assert.match(stderrLines(debian12).join('\n') + debian12.stdout, /installing again on the project's Node 24/);
  const failed = (await play(npmFails)).run;
  assert.equal(failed.code, 1);
  assert.match(stderrLines(failed).at(-1)!, /^bootstrap: npm ci failed \(exit 1, its message is above\)/);
  const wrong = (await play(wrongProjectNode)).run;
  assert.equal(wrong.code, 1);
  assert.match(stderrLines(wrong).at(-1)!, /^bootstrap: expected Node 24 .*found v22\.1\.0/);
});

test('bootstrap: installs when node_modules is missing or stale, and leaves an up-to-date one alone', async () => {
  const fresh = (await play(freshInstall)).run;
  assert.equal(fresh.code, 0, describe(fresh));
  assert.deepEqual(callsTo(fresh, 'npm').map((c) => c.args), [['ci', '--no-audit', '--no-fund', '--loglevel=error']]);
  const same = (await play(upToDate)).run;
  assert.equal(same.code, 0, describe(same));
  assert.equal(callsTo(same, 'npm').length, 0);
  // A lock file newer than node_modules' copy: npm install again.
  const m = await makeMachine({ installed: true });
  const now = new Date();
  await utimes(path.join(m.project, 'package-lock.json'), now, now);
  await utimes(path.join(m.project, 'node_modules', '.package-lock.json'), new Date(now.getTime() - 60_000), new Date(now.getTime() - 60_000));
  const stale = await runScript(m, 'bootstrap');
  assert.equal(stale.code, 0, describe(stale));
  assert.equal(callsTo(stale, 'npm').length, 1);
});

// ---------------------------------------------------------------------------------------
// ensure-chromium.sh
// ---------------------------------------------------------------------------------------

const chromiumUser = scenario({ name: 'chromium missing, not root', script: 'ensure-chromium', machine: { root: false, chromium: false } });
const chromiumRoot = scenario({ name: 'chromium missing, root with apt', script: 'ensure-chromium', machine: { root: true, chromium: false } });
const chromiumDownload = scenario({ name: 'chromium download fails', script: 'ensure-chromium', machine: { root: true, chromium: false, apt: 'install-fails' } });
const chromiumPresent = scenario({ name: 'chromium present', script: 'ensure-chromium', machine: { root: false, chromium: true } });

test('ensure-chromium: names the package without root, installs it with root', async () => {
  const user = (await play(chromiumUser)).run;
  assert.equal(user.code, 1);
  assert.equal(stderrLines(user).length, 1);
  assert.match(stderrLines(user)[0]!, /^ensure-chromium: Chromium is missing at .*: run 'sudo apt-get install chromium'/);
  assert.equal(callsTo(user, 'apt-get').length, 0);

  const { run: root, machine } = await play(chromiumRoot);
  assert.equal(root.code, 0, describe(root));
  assert.deepEqual(installArgs(root), [['install', '-y', '-qq', '--no-install-recommends', 'chromium']]);
  assert.ok(existsSync(machine.chromium));

  const download = (await play(chromiumDownload)).run;
  assert.equal(download.code, 1);
  assert.match(stderrLines(download).at(-1)!, /^ensure-chromium: apt-get could not install chromium \(exit 100: E: Failed to fetch/);

  const present = (await play(chromiumPresent)).run;
  assert.equal(present.code, 0);
  assert.equal(present.calls.length, 0, 'nothing to do, nothing called');

  // An explicit CHROMIUM_PATH is the user's choice: never "fixed" by installing Debian's.
  const m = await makeMachine({ root: true, chromium: false });
  const chosen = await runScript(m, 'ensure-chromium', { env: { CHROMIUM_PATH: path.join(m.dir, 'opt', 'chrome') } });
  assert.equal(chosen.code, 1);
  assert.match(chosen.stderr, /ensure-chromium: Chromium is missing at .*opt\/chrome/);
  assert.equal(callsTo(chosen, 'apt-get').length, 0);
});

// ---------------------------------------------------------------------------------------
// The promise, over every case above and random machines
// ---------------------------------------------------------------------------------------

// A broken basic tool that fails without a word (exit 1) under `set -e`: only the EXIT
// trap in host-lib.sh can say anything, so this fails if the trap is removed.
const brokenSed = scenario({ name: 'sed fails without a word', script: 'bootstrap', machine: { broken: ['sed'] } });
const brokenBasename = scenario({ name: 'basename fails without a word', script: 'ensure-chromium', machine: { root: false, broken: ['basename'] } });
const brokenTail = scenario({
  name: 'tail fails without a word while reading apt-get errors',
  script: 'ensure-runner-deps',
  machine: { root: true, apt: 'install-fails', programs: [], broken: ['tail'] },
});

test('an unexpected command failing under set -e is still explained', async () => {
  const sed = (await play(brokenSed)).run;
  assert.equal(sed.code, 1);
  assert.deepEqual(stderrLines(sed), ['bootstrap: stopped with exit code 1 while looking for Node.js and npm (no other message was given)']);
  // host-lib.sh names the script before its trap is set: that must not need a command that can fail.
  const basename = (await play(brokenBasename)).run;
  assert.equal(basename.code, 1);
  assert.match(stderrLines(basename)[0]!, /^ensure-chromium: Chromium is missing/);
  const tail = (await play(brokenTail)).run;
  assert.equal(tail.code, 1);
  assert.match(stderrLines(tail).at(-1)!, /^ensure-runner-deps: apt-get could not install bubblewrap util-linux mmdebstrap \(exit 100/, 'the real reason, not a generic one');
});

/** A small seeded generator, so a failing random machine can be replayed (SETUP_SEED=…). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomScenarios(seed: number, count: number): Scenario[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  const out: Scenario[] = [];
  for (let i = 0; i < count; i++) {
    const script = pick<Script>(['bootstrap', 'ensure-runner-deps', 'ensure-chromium']);
    const machine: MachineOptions = {
      root: chance(0.5),
      apt: pick(['none', 'ok', 'ok', 'install-fails', 'update-fails', 'installs-nothing'] as const),
      programs: hostPrograms.filter(() => chance(0.6)),
      hostNode: pick(['absent', 'v16.20.2', 'v18.19.0', 'v20.19.2', 'v22.12.0', 'garbage']),
      npm: pick(['absent', 'ok', 'ok', 'fails'] as const),
      installed: chance(0.5),
      projectNode: pick(['ok', 'ok', 'explains', 'silent-1', 'killed', 'absent'] as const),
      installedNodeVersion: pick(['v24.21.0', 'v24.21.0', 'v22.1.0']),
      chromium: chance(0.3),
      broken: chance(0.15) ? [pick(['sed', 'grep', 'tail', 'mktemp', 'basename', 'dirname'] as const)] : [],
    };
    const env: Record<string, string> = {};
    if (chance(0.2)) env.ASYNCLAB_DEPS_TRIED = '1';
    if (script === 'ensure-chromium' && chance(0.3)) env.CHROMIUM_PATH = '/nonexistent/chromium';
    out.push({ name: `random #${i} (seed ${seed}): ${JSON.stringify({ script, machine, env })}`, script, machine, run: { env } });
  }
  return out;
}

test('every run that ends non-zero, in every case above and on random machines, printed a line saying why', async () => {
  const seed = Number(process.env.SETUP_SEED ?? 20250114);
  const all = [...scenarios, ...randomScenarios(seed, 36)];
  const outcomes: string[] = [];
  // A few at a time: each run is a handful of short processes.
  for (let i = 0; i < all.length; i += 8) {
    await Promise.all(
      all.slice(i, i + 8).map(async (s) => {
        const { run } = await play(s); // play asserts the promise
        assert.notEqual(run.code, null, `${s.name}: timed out\n${describe(run)}`);
        assert.deepEqual([...callsTo(run, 'python3'), ...callsTo(run, 'python')], [], `${s.name}: looked for Python`);
        outcomes.push(`${run.code}`);
      }),
    );
  }
  // The walk means something only if it saw both ends.
  assert.ok(outcomes.includes('0') && outcomes.some((c) => c !== '0'), `outcomes: ${outcomes.join(' ')}`);
});

// ---------------------------------------------------------------------------------------
// README ↔ host-packages.sh
// ---------------------------------------------------------------------------------------

/** Single-word code spans in the README's "Set up" that are programs or words, not Debian packages. */
const notPackages = new Set(['node', 'apt-get', 'sudo']);

test("the README's Set up section names exactly the host packages of host-packages.sh", async () => {
  const shell = await readFile(path.join(projectRoot, 'src', 'tools', 'host-packages.sh'), 'utf8');
  const lists = [...shell.matchAll(/^(host_\w+_packages\w*)="([^"]*)"$/gm)];
  assert.ok(lists.length >= 4, 'host-packages.sh defines its lists as host_…_packages="…"');
  const packages = new Set(lists.flatMap((m) => m[2]!.split(/\s+/).filter(Boolean)));

  const readme = await readFile(path.join(projectRoot, 'README.md'), 'utf8');
  const section = /^## Set up\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  assert.ok(section, 'README.md has a "## Set up" section');
  const named = new Set<string>();
  for (const span of section.matchAll(/`([^`\n]+)`/g)) {
    const text = span[1]!;
    const install = /apt-get install ([a-z0-9+.\- ]+)/.exec(text);
    if (install) for (const name of install[1]!.trim().split(/\s+/)) named.add(name);
    else if (/^[a-z0-9][a-z0-9+.-]+$/.test(text) && !notPackages.has(text)) named.add(text);
  }
  for (const name of packages) assert.ok(named.has(name), `README's Set up section does not name the host package \`${name}\` (host-packages.sh does)`);
  for (const name of named) {
    assert.ok(packages.has(name), `README's Set up section names \`${name}\`, which host-packages.sh does not (a stale host package? if it is not a package, add it to notPackages)`);
  }
});
