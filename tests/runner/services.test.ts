/**
 * The runner's PostgreSQL and Redis services, with real servers and real sandboxes: a run
 * reaches its own server with nothing but its environment, cannot reach another run's,
 * leaves nothing behind, and no server outlives its run or the runner. (What a run cannot
 * take from another through them: services-limits.test.ts.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Runner } from '../../src/runner/runner.ts';
import { describeReason } from '../../src/protocol/reasons.ts';
import type { Redis } from '../../src/runner/services/redis.ts';
import { python, runToEnd, type RunResult } from './helpers.ts';

let runner: Runner;
/** Where the services keep their data (as privateDir chooses it). */
const dataBase = tmpdir().length <= 40 ? tmpdir() : '/tmp';

before(async () => {
  runner = await Runner.start();
  assert.equal(runner.isolation, 'bwrap', 'these tests need real isolation');
});
after(() => runner.close());


/** The sandbox's last stdout line that starts with `label`, as JSON. */
function reported<T>(result: RunResult, label: string): T {
  const line = result.stdout.split('\n').findLast((l) => l.startsWith(`${label} `));
  assert.ok(line, `no "${label}" line in:\n${result.stdout}\n${result.stderr.slice(-1500)}`);
  return JSON.parse(line.slice(label.length + 1)) as T;
}

/** Pids of `pid` and every process descending from it, from /proc. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return all;
}

/** Still running (a zombie waiting for a reaper counts as gone: it holds no socket, no file, no memory). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function allGone(pids: number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let left = pids.filter(running);
  while (left.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = left.filter(running);
  }
  return left;
}

test('PostgreSQL: a sandbox creates and reads a table with asyncpg, configured by the environment alone', async () => {
  const source = `
import asyncio, json, os
import asyncpg

async def main():
    conn = await asyncpg.connect()  # PGHOST, PGUSER, PGPASSWORD, PGDATABASE
    await conn.execute("CREATE TABLE lessons (id int PRIMARY KEY, title text NOT NULL)")
    await conn.executemany("INSERT INTO lessons VALUES ($1, $2)", [(1, "why async"), (2, "the event loop")])
    rows = await conn.fetch("SELECT id, title FROM lessons ORDER BY id")
    await conn.close()
    again = await asyncpg.connect(os.environ["DATABASE_URL"])  # the URL works as well
    count = await again.fetchval("SELECT count(*) FROM lessons")
    who = await again.fetchval("SELECT current_user || '@' || current_database()")
    await again.close()
    print("result", json.dumps({"rows": [dict(r) for r in rows], "count": count, "who": who, "host": os.environ["PGHOST"]}))

asyncio.run(main())
`;
  const r = await runToEnd(runner, python(source, { needs: ['postgres'] }));
  assert.equal(r.exit.reason, null, `${JSON.stringify(r.exit)}\n${r.stderr.slice(-1500)}`);
  const result = reported<{ rows: unknown[]; count: number; who: string; host: string }>(r, 'result');
  assert.deepEqual(result.rows, [{ id: 1, title: 'why async' }, { id: 2, title: 'the event loop' }]);
  assert.equal(result.count, 2);
  assert.equal(result.who, 'asynclab@asynclab');
  assert.equal(result.host, '/run/postgresql');
});

test('PostgreSQL: a run cannot get past its own role and database on its own server; the server and its folder are gone after the run', async () => {
  const probe = `
import asyncio, json, os
import asyncpg

outcome = {}

async def attempt(label, **kwargs):
    try:
        conn = await asyncpg.connect(**kwargs)
        outcome[label] = "CONNECTED"
        await conn.close()
    except Exception as exc:
        outcome[label] = "refused: " + type(exc).__name__ + ": " + str(exc)[:160]

async def own(label, sql):
    conn = await asyncpg.connect()
    try:
        outcome[label] = "ALLOWED: " + repr(await conn.fetch(sql))[:200]
    except Exception as exc:
        outcome[label] = "refused: " + type(exc).__name__ + ": " + str(exc)[:160]
    await conn.close()

async def main():
    await attempt("wrong password", password="guess")
    await attempt("database template1", database="template1")
    await attempt("superuser postgres", user="postgres", database="asynclab", password="")
    await own("read files", "SELECT pg_read_file('/etc/passwd')")
    await own("create database", "CREATE DATABASE another")
    await own("create role", "CREATE ROLE another")
    await own("raise temp_file_limit", "SET temp_file_limit = '1GB'")
    await own("copy to a file", "COPY (SELECT 1) TO '/tmp/x'")
    print("outcome", json.dumps(outcome))

asyncio.run(main())
`;
  let pids: number[] = [];
  const r = await runToEnd(runner, python(probe, { needs: ['postgres'] }), (event) => {
    if (event.type === 'started') pids = runner.services.running('postgres').map((s) => s.pid);
  });
  const outcome = reported<Record<string, string>>(r, 'outcome');
  for (const [label, what] of Object.entries(outcome)) assert.match(what, /^refused/, `${label}: ${what}`);
  assert.equal(Object.keys(outcome).length, 8);
  assert.match(outcome['wrong password']!, /password authentication failed/);
  assert.match(outcome['database template1']!, /pg_hba\.conf|permission denied/);
  assert.match(outcome['raise temp_file_limit']!, /permission denied to set parameter "temp_file_limit"/);
  assert.equal(pids.length, 1);
  assert.deepEqual(pids.filter(running), [], 'the run\'s server is gone when its exit is reported');
  assert.deepEqual(runner.services.running(), []);
});

test('Redis: a run reads and writes under its prefix, is refused outside it and for server-wide commands, and its keys and user are gone after it', async () => {
  const source = `
import asyncio, json, os
import redis.asyncio as redis

async def main():
    r = redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    p = os.environ["REDIS_PREFIX"]
    await r.set(p + "greeting", "hello")
    await r.hset(p + "job:1", mapping={"status": "done"})
    await r.lpush(p + "queue", "a", "b")
    got = {"get": await r.get(p + "greeting"), "hget": await r.hget(p + "job:1", "status"), "llen": await r.llen(p + "queue")}
    refused = {}
    for label, args in [
        ("set outside", ("SET", "elsewhere", "x")),
        ("get outside", ("GET", "run:0000000000000000:x")),
        ("flushall", ("FLUSHALL",)),
        ("flushdb", ("FLUSHDB",)),
        ("keys", ("KEYS", "*")),
        ("scan", ("SCAN", "0")),
        ("randomkey", ("RANDOMKEY",)),
        ("config", ("CONFIG", "GET", "*")),
        ("acl", ("ACL", "LIST")),
        ("debug", ("DEBUG", "SLEEP", "0")),
        ("shutdown", ("SHUTDOWN",)),
        ("script", ("SCRIPT", "FLUSH")),
        ("eval", ("EVAL", "return 1", "0")),
        ("function", ("FUNCTION", "FLUSH")),
        ("client list", ("CLIENT", "LIST")),
        ("pubsub channels", ("PUBSUB", "CHANNELS")),
        ("publish outside", ("PUBLISH", "elsewhere", "x")),
        ("info", ("INFO",)),
    ]:
        try:
            refused[label] = "ALLOWED: " + repr(await r.execute_command(*args))[:100]
        except Exception as exc:
            refused[label] = type(exc).__name__ + ": " + str(exc)[:100]
    url = os.environ["REDIS_URL"]
    print("result", json.dumps({"got": got, "refused": refused, "prefix": p, "user": url.split("//")[1].split(":")[0], "url": url.split("@")[1]}), flush=True)
    await r.close()

asyncio.run(main())
`;
  const r = await runToEnd(runner, python(source, { needs: ['redis'] }));
  assert.equal(r.exit.reason, null, `${JSON.stringify(r.exit)}\n${r.stderr.slice(-1500)}`);
  const result = reported<{ got: Record<string, unknown>; refused: Record<string, string>; prefix: string; user: string; url: string }>(r, 'result');
  assert.deepEqual(result.got, { get: 'hello', hget: 'done', llen: 2 });
  for (const [label, what] of Object.entries(result.refused)) {
    // DEBUG is also switched off server-wide (Redis 7's enable-debug-command no), which answers first.
    assert.match(what, label === 'debug' ? /NOPERM|no permissions|DEBUG command not allowed/i : /NOPERM|no permissions/i, `${label}: ${what}`);
  }
  assert.match(result.prefix, /^run:[0-9a-f]{16}:$/);
  assert.equal(result.url, '/run/redis/redis-server.sock');

  assert.deepEqual(runner.services.running(), [], 'the run\'s server (and its keys with it) is gone');
});

test('Redis: a second run cannot read or delete the first run\'s keys', async () => {
  const service = await runner.services.attach(['redis']);
  const server = service.servers[0] as Redis;
  try {
    const prefix = service.env.REDIS_PREFIX!;
    await server.command('SET', `${prefix}mine`, 'private');
    const source = `
import asyncio, json, os
import redis.asyncio as redis

async def main():
    r = redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    out = {}
    for label, args in [("get", ("GET", "${prefix}mine")), ("del", ("DEL", "${prefix}mine")), ("subscribe-like publish", ("PUBLISH", "${prefix}events", "x"))]:
        try:
            out[label] = "ALLOWED: " + repr(await r.execute_command(*args))
        except Exception as exc:
            out[label] = type(exc).__name__
    print("result", json.dumps(out))
    await r.close()

asyncio.run(main())
`;
    const r = await runToEnd(runner, python(source, { needs: ['redis'] }));
    const out = reported<Record<string, string>>(r, 'result');
    assert.deepEqual(out, { get: 'NoPermissionError', del: 'NoPermissionError', 'subscribe-like publish': 'NoPermissionError' });
    assert.equal(await server.command('GET', `${prefix}mine`), 'private');
  } finally {
    await service.release();
  }
});

/** Memory charged to a cgroup now, from one of its `cgroup.procs` paths (v1 memory controller, or v2). */
function memoryInUse(procsFiles: string[]): number {
  const v1 = procsFiles.find((f) => f.includes('/memory/'));
  const file = v1 ? path.join(path.dirname(v1), 'memory.usage_in_bytes') : path.join(path.dirname(procsFiles[0]!), 'memory.current');
  return Number(readFileSync(file, 'utf8'));
}

test('a run\'s servers start quickly inside its cgroup and are small when idle', async (t) => {
  const cgroups = runner.env.cgroups!;
  await (await runner.services.attach(['postgres'])).release(); // the template: once per runner
  type Samples = { startMs: number[]; stopMs: number[]; idleMiB: number[] };
  const samples: Record<string, Samples> = {};
  for (const name of ['postgres', 'redis'] as const) {
    const s: Samples = { startMs: [], stopMs: [], idleMiB: [] };
    samples[name] = s;
    for (let i = 0; i < 5; i++) {
      const group = await cgroups.create(`services-test-${name}-${i}`, { memoryBytes: runner.limits.memoryBytes, processes: 64 });
      try {
        let t0 = performance.now();
        const attached = await runner.services.attach([name], group.procsFiles);
        s.startMs.push(performance.now() - t0);
        await new Promise((resolve) => setTimeout(resolve, 200));
        s.idleMiB.push(memoryInUse(group.procsFiles) / 2 ** 20);
        assert.ok((await group.pids()).includes(attached.servers[0]!.pid), 'the server is in the cgroup');
        t0 = performance.now();
        await group.destroy(); // as at the end of a run: the cgroup kills it, release removes its folder
        await attached.release();
        s.stopMs.push(performance.now() - t0);
      } finally {
        await group.destroy();
      }
    }
  }
  const median = (xs: number[]) => Math.round([...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!);
  const summary = Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, { startMs: median(s.startMs), stopMs: median(s.stopMs), idleMiB: median(s.idleMiB) }]));
  t.diagnostic(`postgres template (initdb, once per runner): ${await runner.services.postgresPrepareMs()} ms; per run (median of 5): ${JSON.stringify(summary)}`);
  assert.ok(summary.postgres!.startMs < 2000 && summary.redis!.startMs < 1000, JSON.stringify(summary));
  assert.ok(summary.postgres!.idleMiB < 64 && summary.redis!.idleMiB < 16, JSON.stringify(summary));
});

test('a service that is not installed, or does not start, refuses the run with service-unavailable before it starts', async () => {
  const broken = await Runner.start({ services: { postgres: { binDir: '/nonexistent/postgresql/bin' }, redis: { binary: '/bin/false' } } });
  try {
    const pgRun = await runToEnd(broken, python('print("never")\n', { needs: ['postgres'] }));
    assert.deepEqual(pgRun.events.map((e) => e.type), ['exit'], 'nothing started');
    assert.equal(pgRun.exit.reason?.code, 'service-unavailable');
    assert.match(pgRun.exit.reason!.message, /^this sandbox needs PostgreSQL, which is not available here: the sandbox runtime at \S+ has no PostgreSQL server \(no postgres, initdb and psql in \/nonexistent\/postgresql\/bin\)/);
    assert.match(describeReason(pgRun.exit.reason!, 'zh'), /^此沙箱需要 PostgreSQL，但本机无法提供：/);

    const redisRun = await runToEnd(broken, python('print("never")\n', { needs: ['redis'] }));
    assert.deepEqual(redisRun.events.map((e) => e.type), ['exit']);
    assert.equal(redisRun.exit.reason?.code, 'service-unavailable');
    assert.match(redisRun.exit.reason!.message, /needs Redis, which is not available here: it did not start: it exited during start/);

    const noDriver = await Runner.start({ env: { ...runner.env, python: { ...runner.env.python!, optionalModules: [] } } });
    try {
      const r = await runToEnd(noDriver, python('print("never")\n', { needs: ['redis'] }));
      assert.equal(r.exit.reason?.code, 'service-unavailable');
      assert.match(r.exit.reason!.message, /its Python driver redis is not in the sandbox runtime \(add python3-redis to sandboxes\/_runtime\/runtime.json\)/);
      assert.deepEqual(noDriver.services.running(), [], 'no server started for a run that cannot use it');
    } finally {
      await noDriver.close();
    }
  } finally {
    await broken.close();
  }
});

test('closing the runner stops the servers still running and removes their folders and the PostgreSQL template', async () => {
  const serviceDirs = () => readdirSync(dataBase).filter((n) => /^asynclab-(postgres|redis)-/.test(n));
  const before = new Set(serviceDirs());
  const own = await Runner.start();
  const r = await runToEnd(own, python('import os\nprint(sorted(k for k in os.environ if k.startswith(("PG", "REDIS", "DATABASE"))))\n', { needs: ['postgres', 'redis'] }));
  assert.equal(r.stdout.trim(), "['DATABASE_URL', 'PGDATABASE', 'PGHOST', 'PGPASSWORD', 'PGPORT', 'PGUSER', 'REDIS_PREFIX', 'REDIS_URL']", r.stderr);
  // Servers attached outside any run (as a run's would be while it runs) are the ones close() must stop.
  await own.services.attach(['postgres', 'redis']);
  const pids = own.services.running().flatMap((s) => processTree(s.pid));
  assert.ok(pids.length >= 3, `postgres has workers: ${pids}`);
  const ownDirs = serviceDirs().filter((n) => !before.has(n));
  assert.equal(ownDirs.length, 3, `the template and two servers' folders: ${ownDirs}`);
  await own.close();
  assert.deepEqual(pids.filter(running), [], 'no postgres or redis process is left');
  assert.deepEqual(ownDirs.filter((n) => existsSync(path.join(dataBase, n))), [], 'their folders are removed');
});

test('a runner killed with SIGKILL takes its servers with it; the next runner sweeps their data', async () => {
  const script = `
import { Runner } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/runner/runner.ts'))};
const runner = await Runner.start();
const attached = await runner.services.attach(['postgres', 'redis']);
console.log(JSON.stringify({ pids: runner.services.running().map((s) => s.pid), pid: process.pid }));
setInterval(() => {}, 1000); // stay until killed
`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', () => reject(new Error(`the child runner exited early: ${out}`)));
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child runner said nothing within 60 s: ${out}`));
    }, 60_000).unref();
  });
  const { pids, pid } = JSON.parse(line) as { pids: number[]; pid: number };
  let tree: number[];
  try {
    assert.ok(pids.every(running), `servers running: ${pids}`);
    // The servers and their workers as they are now (a backend that comes and goes is not one of them).
    tree = pids.flatMap((p) => processTree(p)).filter(running);
    assert.ok(tree.length >= 3, `postgres has workers: ${tree}`);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  assert.deepEqual(await allGone(tree, 10_000), [], 'no orphaned postgres or redis');

  const abandoned = readdirSync(dataBase).filter((n) => n.startsWith(`asynclab-postgres-${pid}-`) || n.startsWith(`asynclab-redis-${pid}-`));
  assert.equal(abandoned.length, 3, 'the killed runner could not clean up its folders (the template and two servers\')');
  const next = await Runner.start();
  try {
    const attached = await next.services.attach(['postgres', 'redis']);
    await attached.release();
    assert.deepEqual(abandoned.filter((n) => existsSync(path.join(dataBase, n))), [], 'swept by the next runner');
  } finally {
    await next.close();
  }
});
