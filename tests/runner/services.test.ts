/**
 * The runner's PostgreSQL and Redis services, with real servers and real sandboxes: a run
 * reaches its own database / key prefix with nothing but its environment, cannot reach
 * another run's, leaves nothing behind, and the servers never outlive the runner.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Runner } from '../../src/runner/runner.ts';
import { describeReason } from '../../src/runner/reasons.ts';
import type { Postgres } from '../../src/runner/services/postgres.ts';
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

const pg = async () => (await runner.services.running('postgres')) as Postgres;
const redis = async () => (await runner.services.running('redis')) as Redis;

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
  assert.match(result.who, /^asynclab_[0-9a-f]{16}@asynclab_[0-9a-f]{16}$/);
  assert.equal(result.host, '/run/postgresql');
});

test('PostgreSQL: a second run cannot reach the first run\'s database, list databases, or get into others; the first database is dropped after its run', async () => {
  // Run A opens a connection, says who it is, and holds the connection until stopped.
  const holder = `
import asyncio, json, os
import asyncpg

async def main():
    conn = await asyncpg.connect()
    await conn.execute("CREATE TABLE secret (v text)")
    await conn.execute("INSERT INTO secret VALUES ('only for A')")
    print("creds", json.dumps({k: os.environ[k] for k in ("PGUSER", "PGPASSWORD", "PGDATABASE")}), flush=True)
    while True:
        await conn.fetchval("SELECT 1")
        await asyncio.sleep(0.2)

asyncio.run(main())
`;
  let announce!: (creds: Record<string, string>) => void;
  const announced = new Promise<Record<string, string>>((resolve) => (announce = resolve));
  let stopA: () => void = () => undefined;
  let seen = '';
  const runA = runToEnd(runner, python(holder, { needs: ['postgres'], timeoutMs: 30_000 }), (event, stop) => {
    stopA = stop;
    if (event.type === 'stdout') {
      seen += event.data;
      const line = seen.split('\n').slice(0, -1).find((l) => l.startsWith('creds ')); // complete lines only
      if (line) announce(JSON.parse(line.slice(6)) as Record<string, string>);
    }
    if (event.type === 'exit') announce({});
  });
  const a = await announced;
  if (!a.PGDATABASE) assert.fail(`run A did not start: ${JSON.stringify((await runA).exit)} ${(await runA).stderr.slice(-1500)}`);

  const intruder = `
import asyncio, json, os
import asyncpg

A = json.loads(${JSON.stringify(JSON.stringify(a))})
outcome = {}

async def attempt(label, **kwargs):
    try:
        conn = await asyncpg.connect(**kwargs)
        try:
            outcome[label] = "CONNECTED: " + repr(await conn.fetch("SELECT * FROM secret"))
        except Exception as exc:
            outcome[label] = "CONNECTED, then " + type(exc).__name__
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
    await attempt("A's database, own credentials", database=A["PGDATABASE"])
    await attempt("A's credentials, wrong password", user=A["PGUSER"], database=A["PGDATABASE"], password="guess")
    await attempt("database postgres", database="postgres")
    await attempt("database template1", database="template1")
    await attempt("superuser postgres", user="postgres", database="postgres", password="")
    await own("list databases", "SELECT datname FROM pg_database")
    await own("list roles", "SELECT rolname FROM pg_roles")
    await own("list sessions", "SELECT datname, usename FROM pg_stat_activity")
    await own("drop A's database", 'DROP DATABASE "%s"' % A["PGDATABASE"])
    await own("read files", "SELECT pg_read_file('/etc/passwd')")
    await own("create database", "CREATE DATABASE another")
    await own("drop A's role", 'DROP ROLE "%s"' % A["PGUSER"])
    print("outcome", json.dumps(outcome))

asyncio.run(main())
`;
  const b = await runToEnd(runner, python(intruder, { needs: ['postgres'] }));
  stopA();
  const outcome = reported<Record<string, string>>(b, 'outcome');
  for (const [label, what] of Object.entries(outcome)) assert.match(what, /^refused/, `${label}: ${what}`);
  assert.equal(Object.keys(outcome).length, 12);
  assert.match(outcome["drop A's database"]!, /must be owner/, 'A\'s database was still there, and out of reach');
  assert.match(outcome["A's database, own credentials"]!, /pg_hba\.conf|permission denied/);
  assert.match(outcome["A's credentials, wrong password"]!, /password authentication failed/);

  const exitA = (await runA).exit;
  assert.equal(exitA.reason?.code, 'stopped');
  // When the run's exit is reported, its role and database (and its open session) are gone.
  const left = await (await pg()).query(`SELECT datname FROM pg_database WHERE datname = '${a.PGDATABASE}' UNION ALL SELECT rolname FROM pg_roles WHERE rolname = '${a.PGUSER}' UNION ALL SELECT usename FROM pg_stat_activity WHERE usename = '${a.PGUSER}'`);
  assert.equal(left.trim(), '', `left behind: ${left}`);
  const runs = await (await pg()).query("SELECT datname FROM pg_database WHERE datname LIKE 'asynclab\\_%'");
  assert.equal(runs.trim(), '', 'no run database outlives its run');
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

  const server = await redis();
  const [, keys] = (await server.command('SCAN', '0', 'MATCH', `${result.prefix}*`, 'COUNT', '10000')) as [string, string[]];
  assert.deepEqual(keys, [], 'the run\'s keys are gone');
  assert.equal(await server.command('ACL', 'GETUSER', result.user), null, 'the run\'s user is gone');
  assert.deepEqual(await server.command('ACL', 'USERS'), ['asynclab-admin', 'default']);
});

test('Redis: a second run cannot read or delete the first run\'s keys', async () => {
  const server = await redis();
  const service = await runner.services.attach(['redis']);
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

test('per-run setup and teardown are quick; cold starts are reported', async (t) => {
  const timings: Record<string, number[]> = { postgresAttach: [], postgresRelease: [], redisAttach: [], redisRelease: [] };
  for (let i = 0; i < 5; i++) {
    for (const name of ['postgres', 'redis'] as const) {
      let t0 = performance.now();
      const attached = await runner.services.attach([name]);
      timings[`${name}Attach`]!.push(performance.now() - t0);
      t0 = performance.now();
      await attached.release();
      timings[`${name}Release`]!.push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => Math.round([...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!);
  const summary = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, median(v)]));
  t.diagnostic(`cold start: postgres ${(await pg()).startMs} ms, redis ${(await redis()).startMs} ms; per run (median of 5, ms): ${JSON.stringify(summary)}`);
  assert.ok(summary.postgresAttach! < 2000 && summary.postgresRelease! < 2000, JSON.stringify(summary));
  assert.ok(summary.redisAttach! < 500 && summary.redisRelease! < 500, JSON.stringify(summary));
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
      assert.equal(await noDriver.services.running('redis'), undefined, 'no server started for a run that cannot use it');
    } finally {
      await noDriver.close();
    }
  } finally {
    await broken.close();
  }
});

test('closing the runner stops PostgreSQL and Redis and removes their data', async () => {
  const serviceDirs = () => readdirSync(dataBase).filter((n) => /^asynclab-(postgres|redis)-/.test(n));
  const before = new Set(serviceDirs());
  const own = await Runner.start();
  const r = await runToEnd(own, python('import os\nprint(sorted(k for k in os.environ if k.startswith(("PG", "REDIS", "DATABASE"))))\n', { needs: ['postgres', 'redis'] }));
  assert.equal(r.stdout.trim(), "['DATABASE_URL', 'PGDATABASE', 'PGHOST', 'PGPASSWORD', 'PGPORT', 'PGUSER', 'REDIS_PREFIX', 'REDIS_URL']", r.stderr);
  const servers = [(await own.services.running('postgres'))!, (await own.services.running('redis'))!];
  const pids = servers.flatMap((s) => processTree(s.pid));
  assert.ok(pids.length >= 3, `postgres has workers: ${pids}`);
  const ownDirs = serviceDirs().filter((n) => !before.has(n));
  assert.equal(ownDirs.length, 2, `${ownDirs}`);
  await own.close();
  assert.deepEqual(pids.filter(running), [], 'no postgres or redis process is left');
  assert.deepEqual(ownDirs.filter((n) => existsSync(path.join(dataBase, n))), [], 'their data is removed');
});

test('a runner killed with SIGKILL takes its servers with it; the next runner sweeps their data', async () => {
  const script = `
import { Runner } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/runner/runner.ts'))};
const runner = await Runner.start();
const attached = await runner.services.attach(['postgres', 'redis']);
const pg = await runner.services.running('postgres');
const redis = await runner.services.running('redis');
console.log(JSON.stringify({ pids: [pg.pid, redis.pid], pid: process.pid }));
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
  assert.equal(abandoned.length, 2, 'the killed runner could not clean up its data');
  const next = await Runner.start();
  try {
    const attached = await next.services.attach(['postgres', 'redis']);
    await attached.release();
    assert.deepEqual(abandoned.filter((n) => existsSync(path.join(dataBase, n))), [], 'swept by the next runner');
  } finally {
    await next.close();
  }
});
