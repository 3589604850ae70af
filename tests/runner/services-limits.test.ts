/**
 * Regression tests for issue 15, items 4 and 5: a run cannot take memory, disk or
 * connections from another run through PostgreSQL or Redis, nor see another run's names.
 * Each test reproduces the attack as it was found (against the shared servers then), and
 * asserts it now fails with its reason while another run, started alongside, completes
 * normally. Every run has servers of its own, inside its own cgroup.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Runner } from '../../src/runner/runner.ts';
import { describeReason } from '../../src/protocol/reasons.ts';
import { postgresLimits } from '../../src/runner/services/postgres.ts';
import { redisLimits } from '../../src/runner/services/redis.ts';
import { python, runToEnd, type RunResult } from './helpers.ts';

let runner: Runner;
const dataBase = tmpdir().length <= 40 ? tmpdir() : '/tmp';

before(async () => {
  runner = await Runner.start();
  assert.equal(runner.isolation, 'bwrap', 'these tests need real isolation');
  assert.ok(runner.env.cgroups, 'these tests need cgroups');
});
after(() => runner.close());

function reported<T>(result: RunResult, label: string): T {
  const line = result.stdout.split('\n').findLast((l) => l.startsWith(`${label} `));
  assert.ok(line, `no "${label}" line in:\n${result.stdout}\n${JSON.stringify(result.exit)}\n${result.stderr.slice(-1500)}`);
  return JSON.parse(line.slice(label.length + 1)) as T;
}

/**
 * Starts `attack` and, once it prints `signal`, the bystander; returns both results. The
 * attack may hold (sleep) after signalling: it is stopped when the bystander is done
 * (unless told to let it end by itself).
 */
async function alongside(
  attack: { manifest: unknown; files: Record<string, string> },
  signal: string,
  bystander: { manifest: unknown; files: Record<string, string> },
  options: { stopAttack: boolean } = { stopAttack: true },
): Promise<{ attack: RunResult; bystander: RunResult }> {
  let seen = '';
  let signalled!: () => void;
  const ready = new Promise<void>((resolve) => (signalled = resolve));
  let stopAttack: () => void = () => undefined;
  const attackRun = runToEnd(runner, attack, (event, stop) => {
    stopAttack = stop;
    if (event.type === 'stdout') {
      seen += event.data;
      if (seen.includes(`${signal}\n`)) signalled();
    }
    if (event.type === 'exit') signalled();
  });
  await ready;
  const other = await runToEnd(runner, bystander);
  if (options.stopAttack) stopAttack();
  return { attack: await attackRun, bystander: other };
}

/** A run that uses PostgreSQL normally: a table, rows, a sort, a join. */
const normalPostgres = python(`
import asyncio, json
import asyncpg

async def main():
    conn = await asyncpg.connect()
    await conn.execute("CREATE TABLE lessons (id int PRIMARY KEY, title text)")
    await conn.executemany("INSERT INTO lessons VALUES ($1, $2)", [(i, "lesson %d" % i) for i in range(1000)])
    rows = await conn.fetchval("SELECT count(*) FROM (SELECT * FROM lessons ORDER BY title DESC) s")
    await conn.close()
    print("normal", json.dumps({"rows": rows}))

asyncio.run(main())
`, { needs: ['postgres'] });

function assertNormal(r: RunResult): void {
  assert.equal(r.exit.reason, null, `the bystander did not complete: ${JSON.stringify(r.exit)}\n${r.stderr.slice(-1500)}`);
  assert.deepEqual(reported(r, 'normal'), { rows: 1000 });
}

test('PostgreSQL: SET work_mem = 3GB and a big sort end in this run\'s memory limit, naming PostgreSQL; a run alongside completes', async () => {
  // As found: the role could SET work_mem='3GB' and one backend grew to ~1.9 GB (limit 512 MiB).
  const attack = python(`
import asyncio, json
import asyncpg

async def main():
    conn = await asyncpg.connect()
    await conn.execute("SET work_mem = '3GB'")  # any role may: the run's cgroup is what bounds it
    await conn.execute("SET hash_mem_multiplier = 1000")
    print("set", flush=True)
    try:
        await conn.fetchval("SELECT count(*) FROM (SELECT g FROM generate_series(1, 40000000) g ORDER BY g DESC) s")
        outcome = "COMPLETED"
    except Exception as exc:
        outcome = type(exc).__name__
    print("outcome", json.dumps(outcome), flush=True)

asyncio.run(main())
`, { needs: ['postgres'], timeoutMs: 30_000 });
  const { attack: a, bystander } = await alongside(attack, 'set', normalPostgres, { stopAttack: false });
  assertNormal(bystander);
  assert.equal(reported(a, 'outcome'), 'ConnectionDoesNotExistError', 'the backend was killed mid-sort');
  assert.equal(a.exit.reason?.code, 'memory', JSON.stringify(a.exit));
  assert.equal(a.exit.reason?.message, `out of memory: the limit is ${runner.limits.memoryBytes / 2 ** 20} MiB, its PostgreSQL server included (a PostgreSQL process of this run was killed)`);
  assert.match(describeReason(a.exit.reason!, 'zh'), /^内存不足：上限为 \d+ MiB，含本次运行的 PostgreSQL 服务器/);
});

test('PostgreSQL: a 446 MB table stops at the data directory\'s bound with "No space left on device"; nothing reaches the host disk; a run alongside completes', async () => {
  // As found: a 446 MB table reached the host's disk in 2.2 s.
  const attack = python(`
import asyncio, json
import asyncpg

async def main():
    conn = await asyncpg.connect()
    print("connected", flush=True)
    try:
        await conn.execute("CREATE TABLE big AS SELECT repeat('x', 1000) AS v FROM generate_series(1, 446000)")
        outcome = {"error": None}
    except Exception as exc:
        outcome = {"error": type(exc).__name__, "message": str(exc).split("\\n")[0], "sqlstate": exc.sqlstate}
    outcome["still serving"] = await conn.fetchval("SELECT 1")
    # Smaller tables still fit in what is left.
    await conn.execute("CREATE TABLE small AS SELECT repeat('x', 1000) AS v FROM generate_series(1, 1000)")
    outcome["small"] = await conn.fetchval("SELECT count(*) FROM small")
    print("outcome", json.dumps(outcome), flush=True)

asyncio.run(main())
`, { needs: ['postgres'] });
  const before = serviceDirs();
  const { attack: a, bystander } = await alongside(attack, 'connected', normalPostgres);
  assertNormal(bystander);
  const outcome = reported<{ error: string; message: string; sqlstate: string; 'still serving': number; small: number }>(a, 'outcome');
  assert.equal(outcome.error, 'DiskFullError', JSON.stringify(outcome));
  assert.equal(outcome.sqlstate, '53100');
  assert.match(outcome.message, /No space left on device/);
  assert.equal(outcome['still serving'], 1);
  assert.equal(outcome.small, 1000);
  assert.equal(a.exit.reason, null, JSON.stringify(a.exit));
  assert.deepEqual(serviceDirs().filter((d) => !before.includes(d)), [], 'the runs\' server folders are gone');
  assert.ok(postgresLimits.dataBytes <= 64 * 2 ** 20);
});

test('PostgreSQL: connections past the cap are refused with "too many connections"; a run alongside completes', async () => {
  // As found: one role held 20 connections for a 120 s preview.
  const attack = python(`
import asyncio, json
import asyncpg

async def main():
    held = []
    outcome = {}
    for i in range(20):
        try:
            held.append(await asyncpg.connect())
        except Exception as exc:
            outcome = {"error": type(exc).__name__, "message": str(exc)}
            break
    outcome["held"] = len(held)
    print("outcome", json.dumps(outcome), flush=True)
    print("holding", flush=True)
    await asyncio.sleep(30)

asyncio.run(main())
`, { needs: ['postgres'], timeoutMs: 40_000 });
  const { attack: a, bystander } = await alongside(attack, 'holding', normalPostgres);
  assertNormal(bystander);
  const outcome = reported<{ held: number; error: string; message: string }>(a, 'outcome');
  assert.equal(outcome.held, postgresLimits.connections);
  assert.equal(outcome.error, 'TooManyConnectionsError');
  assert.equal(outcome.message, 'too many connections for role "asynclab"');
  assert.equal(a.exit.reason?.code, 'stopped');
});

test('PostgreSQL: another run\'s sessions, roles and databases are not visible through pg_stat_get_activity, pg_shdepend or pg_database', async () => {
  // As found: other runs' role and database names showed in pg_stat_get_activity and pg_shdepend.
  const marker = `holder-${Math.random().toString(16).slice(2, 10)}`;
  const holder = python(`
import asyncio
import asyncpg

async def main():
    conns = [await asyncpg.connect(server_settings={"application_name": "${marker}"}) for _ in range(3)]
    await conns[0].execute("CREATE TABLE holder_secret (v text)")
    print("holding", flush=True)
    while True:
        await conns[0].fetchval("SELECT 1")
        await asyncio.sleep(0.2)

asyncio.run(main())
`, { needs: ['postgres'], timeoutMs: 30_000 });
  const looker = python(`
import asyncio, json
import asyncpg

async def main():
    conn = await asyncpg.connect()
    seen = {
        "activity": [dict(r) for r in await conn.fetch("SELECT r.rolname AS usename, d.datname, a.application_name FROM pg_stat_get_activity(NULL) a LEFT JOIN pg_roles r ON r.oid = a.usesysid LEFT JOIN pg_database d ON d.oid = a.datid WHERE a.backend_type = 'client backend'")],
        "databases": sorted(r[0] for r in await conn.fetch("SELECT datname FROM pg_database")),
        "login roles": sorted(r[0] for r in await conn.fetch("SELECT rolname FROM pg_roles WHERE rolcanlogin")),
        "shdepend on other databases": await conn.fetchval("SELECT count(*) FROM pg_shdepend WHERE dbid NOT IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))"),
        "holder's table": await conn.fetchval("SELECT count(*) FROM pg_class WHERE relname = 'holder_secret'"),
    }
    await conn.close()
    print("seen", json.dumps(seen, default=str))
    print("normal", json.dumps({"rows": 1000}))

asyncio.run(main())
`, { needs: ['postgres'] });
  const { attack: a, bystander } = await alongside(holder, 'holding', looker);
  assert.equal(a.exit.reason?.code, 'stopped', `the holder ran until stopped: ${JSON.stringify(a.exit)} ${a.stderr.slice(-800)}`);
  assertNormal(bystander);
  const seen = reported<{ activity: Array<{ usename: string; datname: string; application_name: string }>; databases: string[]; 'login roles': string[]; 'shdepend on other databases': number; "holder's table": number }>(bystander, 'seen');
  assert.deepEqual(seen.activity.map((s) => s.application_name), [''], `only its own session: ${JSON.stringify(seen.activity)}`);
  assert.ok(!JSON.stringify(seen).includes(marker));
  assert.deepEqual(seen.databases, ['asynclab', 'template0', 'template1']);
  assert.deepEqual(seen['login roles'], ['asynclab', 'postgres']);
  assert.equal(seen['shdepend on other databases'], 0);
  assert.equal(seen["holder's table"], 0);
});

test('Redis: LCS, and the other commands that allocate in proportion to their arguments, are refused (NOPERM); a run alongside completes', async () => {
  // As found: LCS of two 8,000-character strings took the shared Redis from 11 to 247 MiB, blocking it 1 s.
  // Found since: negative-count *RANDMEMBER/HRANDFIELD replies, and Redis 8's VADD … REDUCE (160 MiB from 80 KB).
  const attack = python(`
import asyncio, json, os
import redis.asyncio as redis

async def main():
    r = redis.from_url(os.environ["REDIS_URL"])
    p = os.environ["REDIS_PREFIX"]
    await r.set(p + "a", "ab" * 4000)
    await r.set(p + "b", "ba" * 4000)
    await r.sadd(p + "s", "x")
    await r.hset(p + "h", "f", "v")
    await r.zadd(p + "z", {"m": 1})
    outcome = {}
    for args in [
        ("LCS", p + "a", p + "b"),
        ("SRANDMEMBER", p + "s", -3000000),
        ("HRANDFIELD", p + "h", -3000000, "WITHVALUES"),
        ("ZRANDMEMBER", p + "z", -3000000, "WITHSCORES"),
        ("VADD", p + "v", "REDUCE", 2000, "FP32", bytes(80000), "e"),
        ("VSIM", p + "v", "ELE", "e"),
    ]:
        try:
            await r.execute_command(*args)
            outcome[args[0]] = "ALLOWED"
        except Exception as exc:
            outcome[args[0]] = type(exc).__name__ + ": " + str(exc)
    print("outcome", json.dumps(outcome), flush=True)
    await r.aclose()

asyncio.run(main())
`, { needs: ['redis'] });
  const { attack: a, bystander } = await alongside(attack, 'outcome', normalRedis);
  assertRedisNormal(bystander);
  const outcome = reported<Record<string, string>>(a, 'outcome');
  assert.deepEqual(Object.keys(outcome), ['LCS', 'SRANDMEMBER', 'HRANDFIELD', 'ZRANDMEMBER', 'VADD', 'VSIM']);
  for (const [command, what] of Object.entries(outcome)) {
    assert.match(what, new RegExp(`^NoPermissionError: User run-[0-9a-f]{16} has no permissions to run the '${command}' command$`, 'i'), what);
  }
  assert.equal(a.exit.reason, null, JSON.stringify(a.exit));
});

const normalRedis = python(`
import asyncio, json, os
import redis.asyncio as redis

async def main():
    r = redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    p = os.environ["REDIS_PREFIX"]
    for i in range(200):
        await r.set(p + "job:%d" % i, "x" * 1000)
    await r.lpush(p + "queue", *range(100))
    print("normal", json.dumps({"get": len(await r.get(p + "job:7")), "llen": await r.llen(p + "queue")}))
    await r.aclose()

asyncio.run(main())
`, { needs: ['redis'] });

function assertRedisNormal(r: RunResult): void {
  assert.equal(r.exit.reason, null, `the bystander did not complete: ${JSON.stringify(r.exit)}\n${r.stderr.slice(-1500)}`);
  assert.deepEqual(reported(r, 'normal'), { get: 1000, llen: 100 });
}

test('Redis: a run that fills its memory gets OOM errors, and another run\'s writes meanwhile succeed', async () => {
  // As found: maxmemory (128 MB) was shared, so one run filling it made every other run's writes fail with OOM.
  const attack = python(`
import asyncio, json, os
import redis.asyncio as redis

async def main():
    r = redis.from_url(os.environ["REDIS_URL"])
    p = os.environ["REDIS_PREFIX"]
    value = b"x" * (1024 * 1024)
    written = 0
    outcome = {}
    for i in range(1000):
        try:
            await r.set(p + "fill:%d" % i, value)
            written += 1
        except Exception as exc:
            outcome = {"error": type(exc).__name__, "message": str(exc)}
            break
    outcome["written MiB"] = written
    print("outcome", json.dumps(outcome), flush=True)
    print("full", flush=True)
    await asyncio.sleep(30)

asyncio.run(main())
`, { needs: ['redis'], timeoutMs: 40_000 });
  const { attack: a, bystander } = await alongside(attack, 'full', normalRedis);
  assertRedisNormal(bystander);
  const outcome = reported<{ error: string; message: string; 'written MiB': number }>(a, 'outcome');
  assert.equal(outcome.error, 'OutOfMemoryError', JSON.stringify(outcome));
  assert.match(outcome.message, /^command not allowed when used memory > 'maxmemory'/);
  const maxMiB = redisLimits.maxMemoryBytes / 2 ** 20;
  // Each 1 MiB value costs a little more than 1 MiB (allocator size classes, key, dict entry).
  assert.ok(outcome['written MiB'] >= maxMiB / 2 && outcome['written MiB'] < maxMiB, JSON.stringify(outcome));
  assert.equal(a.exit.reason?.code, 'stopped');
});

/** The services' private folders (sockets, configuration, the template) in the temp directory. */
function serviceDirs(): string[] {
  return readdirSync(dataBase).filter((n) => new RegExp(`^asynclab-(postgres|redis)-${process.pid}-`).test(n));
}

test('a run stopped midway leaves no server process and no server folder; the services ran inside its cgroup', async () => {
  const source = `
import asyncio, os
import asyncpg, redis.asyncio as redis

async def main():
    conn = await asyncpg.connect()
    await conn.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g")
    r = redis.from_url(os.environ["REDIS_URL"])
    await r.set(os.environ["REDIS_PREFIX"] + "k", "v")
    print("working", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
`;
  const before = serviceDirs();
  let servers: Array<{ pid: number; name: string }> = [];
  let cgroupOfServers: string[] = [];
  const r = await runToEnd(runner, python(source, { needs: ['postgres', 'redis'], timeoutMs: 30_000 }), (event, stop) => {
    if (event.type === 'stdout' && event.data.includes('working')) {
      servers = runner.services.running().map((s) => ({ pid: s.pid, name: s.name }));
      cgroupOfServers = servers.map((s) => readCgroup(s.pid));
      stop();
    }
  });
  assert.equal(r.exit.reason?.code, 'stopped', `${JSON.stringify(r.exit)} ${r.stderr.slice(-800)}`);
  assert.deepEqual(servers.map((s) => s.name).sort(), ['postgres', 'redis']);
  for (const group of cgroupOfServers) assert.match(group, /\/asynclab\/\d+\/run-[0-9a-f]{12}$/, 'each server is in the run\'s memory cgroup');
  assert.deepEqual(servers.filter((s) => existsSync(`/proc/${s.pid}`)), [], 'no server process is left');
  assert.deepEqual(runner.services.running(), []);
  const left = serviceDirs().filter((d) => !before.includes(d) && existsSync(path.join(dataBase, d)));
  // The PostgreSQL template (one per runner) stays until the runner closes; nothing of the run does.
  assert.ok(left.length <= 1, `left: ${left}`);
});

/** The memory cgroup a process is in (v1), or its unified group (v2). */
function readCgroup(pid: number): string {
  const lines = readFileSyncSafe(`/proc/${pid}/cgroup`).split('\n');
  return (lines.find((l) => l.split(':')[1]?.split(',').includes('memory')) ?? lines.find((l) => l.startsWith('0::')) ?? '').split(':')[2] ?? '';
}

function readFileSyncSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
