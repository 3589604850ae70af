/**
 * Checks a built runtime root the way the runner will use it: inside bubblewrap, with the
 * root as the system. The full check (after every build) imports every module of the
 * lesson stack, compares the versions with the spec, and starts each server for real
 * (Redis answers PING, PostgreSQL answers a query). The quick check (every start) only
 * imports the stack, so a damaged cache is caught and rebuilt, at the cost of ~1 s.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RuntimeSpec } from './spec.ts';
import { etcFilesFor, etcMountPoints, rootedArgs } from './system-root.ts';

const run = promisify(execFile);

export class RuntimeCheckError extends Error {}

/** Python distributions (importlib.metadata names) whose import names differ from them. */
const importNames: Record<string, string> = { 'pytest-asyncio': 'pytest_asyncio' };
/** Keys of `versions` that are not Python distributions. */
const programs = new Set(['python', 'postgresql', 'redis-server']);
/** Service drivers the runner reports to runs (job.ts refuses a service run whose driver is missing). */
const driverModules = ['asyncpg', 'redis', 'sqlalchemy'];

/** Runs `argv` inside `root` as nobody in fresh namespaces, with a private /tmp. */
async function inRoot(bwrap: string, root: string, argv: string[], timeoutMs: number): Promise<string> {
  const etc = await mkdtemp(path.join(tmpdir(), 'asynclab-check-etc-'));
  try {
    for (const [name, content] of Object.entries(etcFilesFor({ name: 'nobody', uid: 65534, gid: 65534, home: '/tmp' }))) {
      await writeFile(path.join(etc, name), content, { mode: 0o644 });
    }
    for (const dir of etcMountPoints) await mkdir(path.join(etc, dir));
    const args = [
      ...rootedArgs(root, { etc, uid: 65534, chdir: '/tmp', env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } }),
      '--',
      ...argv,
    ];
    const { stdout } = await run(bwrap, args, { timeout: timeoutMs, env: {}, maxBuffer: 1 << 20 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; killed?: boolean };
    const why = e.killed ? `timed out after ${timeoutMs / 1000} s` : (e.stderr || e.message).trim().split('\n').slice(-3).join(' ');
    throw new RuntimeCheckError(`${argv.join(' ').slice(0, 80)}: ${why}`);
  } finally {
    await rm(etc, { recursive: true, force: true });
  }
}

export interface CheckResult {
  versions: Record<string, string>;
  pythonModules: string[];
}

function pythonProbe(spec: RuntimeSpec): string {
  const dists = Object.keys(spec.versions).filter((k) => !programs.has(k));
  const imports = dists.map((d) => importNames[d] ?? d.replace(/-/g, '_'));
  return [
    'import sys, json, importlib, importlib.metadata as md, importlib.util',
    `for name in ${JSON.stringify(imports)}: importlib.import_module(name)`,
    `versions = {d: md.version(d) for d in ${JSON.stringify(dists)}}`,
    'versions["python"] = "%d.%d.%d" % sys.version_info[:3]',
    `mods = [m for m in ${JSON.stringify(driverModules)} if importlib.util.find_spec(m)]`,
    'import httpx; httpx.AsyncClient()  # loads the CA bundle, as every lesson client does',
    'print(json.dumps({"versions": versions, "modules": mods}))',
  ].join('\n');
}

/** `1.2.3` satisfies `1.2` and `1.2.3`, not `1.20`. */
export function versionMatches(actual: string, wanted: string): boolean {
  return actual === wanted || actual.startsWith(`${wanted}.`);
}

export function compareVersions(spec: RuntimeSpec, versions: Record<string, string>): string[] {
  return Object.entries(spec.versions)
    .filter(([name, wanted]) => !versionMatches(versions[name] ?? '(none)', wanted))
    .map(([name, wanted]) => `${name} ${versions[name] ?? '(missing)'} (runtime.json wants ${wanted})`);
}

/** The servers start and answer, the way the runner's services start them (socket only, no TCP). */
function serverScript(pgMajor: string): string {
  const bin = `/usr/lib/postgresql/${pgMajor}/bin`;
  return [
    'set -e',
    'redis-server --port 0 --unixsocket /tmp/redis.sock --save "" --appendonly no --daemonize no >/tmp/redis.log 2>&1 &',
    'i=0; until [ "$(redis-cli -s /tmp/redis.sock ping 2>/dev/null)" = PONG ]; do i=$((i+1)); [ $i -lt 100 ] || { echo "redis-server did not answer PING: $(tail -n 3 /tmp/redis.log)" >&2; exit 1; }; sleep 0.1; done',
    'redis-cli -s /tmp/redis.sock shutdown nosave >/dev/null 2>&1 || true',
    `${bin}/initdb -D /tmp/pg -U check -A trust --no-sync --no-locale -E UTF8 >/tmp/initdb.log 2>&1 || { echo "initdb failed: $(tail -n 3 /tmp/initdb.log)" >&2; exit 1; }`,
    `${bin}/pg_ctl -D /tmp/pg -l /tmp/pg.log -o "-k /tmp -c listen_addresses=''" -w -t 30 start >/dev/null || { echo "postgres did not start: $(tail -n 3 /tmp/pg.log)" >&2; exit 1; }`,
    `answer=$(${bin}/psql -h /tmp -U check -d postgres -Atc 'select 40 + 2')`,
    `${bin}/pg_ctl -D /tmp/pg -m immediate -w stop >/dev/null`,
    '[ "$answer" = 42 ] || { echo "postgres answered \\"$answer\\" to select 40 + 2" >&2; exit 1; }',
    'echo ok',
  ].join('\n');
}

export async function checkRoot(bwrap: string, root: string, spec: RuntimeSpec, options: { quick: boolean }): Promise<CheckResult> {
  const probe = JSON.parse(await inRoot(bwrap, root, ['/usr/bin/python3', '-I', '-c', pythonProbe(spec)], 60_000)) as {
    versions: Record<string, string>;
    modules: string[];
  };
  const versions = { ...probe.versions };
  if (!options.quick) {
    const pgMajor = spec.versions.postgresql!.split('.')[0]!;
    const pg = await inRoot(bwrap, root, [`/usr/lib/postgresql/${pgMajor}/bin/postgres`, '--version'], 30_000);
    versions.postgresql = /(\d+(?:\.\d+)*)/.exec(pg)?.[1] ?? '(unreadable)';
    const redis = await inRoot(bwrap, root, ['/usr/bin/redis-server', '--version'], 30_000);
    versions['redis-server'] = /v=(\d+(?:\.\d+)*)/.exec(redis)?.[1] ?? '(unreadable)';
    await inRoot(bwrap, root, ['/bin/sh', '-c', serverScript(pgMajor)], 120_000);
    const wrong = compareVersions(spec, versions);
    if (wrong.length) throw new RuntimeCheckError(`the root reports other versions than runtime.json names: ${wrong.join(', ')}`);
  }
  return { versions, pythonModules: probe.modules };
}

