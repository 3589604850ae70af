/**
 * Sandboxes run in the pinned runtime (sandboxes/_runtime/runtime.json), not on whatever
 * the host has: the versions are the ones the sandboxes report from inside, and the
 * PostgreSQL and Redis servers a run talks to are the runtime's too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { detectEnvironment, pythonRuntimeLabel } from '../../src/runner/environment.ts';
import { Runner } from '../../src/runner/runner.ts';
import { versionMatches } from '../../src/runtime/check.ts';
import { loadSpec } from '../../src/runtime/spec.ts';
import { python, runToEnd } from './helpers.ts';

const { spec } = loadSpec();
let runner: Runner;

before(async () => {
  runner = await Runner.start();
});
after(() => runner.close());

test('a Python sandbox reports the runtime\'s versions from inside, whatever the host has', async () => {
  assert.equal(runner.env.system.pinned, true, `the runner is not on the pinned runtime: ${runner.env.system.label}`);
  const source = [
    'import sys, json, importlib.metadata as md',
    'names = ["fastapi", "starlette", "anyio", "uvicorn", "httpx", "sqlalchemy", "pydantic"]',
    'print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], **{n: md.version(n) for n in names}}))',
  ].join('\n');
  const result = await runToEnd(runner, python(`${source}\n`));
  assert.equal(result.exit.code, 0, result.stderr);
  const reported = JSON.parse(result.stdout) as Record<string, string>;
  for (const [name, version] of Object.entries(reported)) {
    assert.ok(versionMatches(version, spec.versions[name]!), `${name} ${version}, runtime.json wants ${spec.versions[name]}`);
  }
  // The point of a pinned runtime: on a host with another Python (Debian 12: 3.11) the sandbox still says 3.13.
  let host = 'none';
  try {
    host = execFileSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim();
  } catch {
    // no python3 on the host at all: fine, the sandbox did not need one
  }
  console.log(`host python3: ${host}; sandbox: Python ${reported.python}, FastAPI ${reported.fastapi}`);
  assert.match(pythonRuntimeLabel(runner.env), new RegExp(`^Python ${spec.versions.python!.replace('.', '\\.')}\\.\\d+ · FastAPI ${spec.versions.fastapi!.replace('.', '\\.')}\\.\\d+ · ${spec.release}`));
});

test('the PostgreSQL and Redis a run talks to are the runtime\'s', async () => {
  const source = [
    'import asyncio, os, asyncpg, redis.asyncio as redis',
    'async def main():',
    '    conn = await asyncpg.connect(os.environ["DATABASE_URL"])',
    '    print("postgres", await conn.fetchval("SHOW server_version"))',
    '    await conn.close()',
    '    r = redis.from_url(os.environ["REDIS_URL"])',
    '    hello = await r.execute_command("HELLO", "2")  # stays on RESP2: a flat list of names and values',
    '    fields = dict(zip(hello[::2], hello[1::2])) if isinstance(hello, list) else hello',
    '    version = fields.get(b"version", fields.get("version"))',
    '    print("redis", version.decode() if isinstance(version, bytes) else version)',
    '    await r.aclose()',
    'asyncio.run(main())',
  ].join('\n');
  const result = await runToEnd(runner, python(`${source}\n`, { needs: ['postgres', 'redis'] }));
  assert.equal(result.exit.code, 0, `${result.stderr}${result.exit.reason?.message ?? ''}`);
  const postgres = /^postgres (\S+)/m.exec(result.stdout)?.[1] ?? '';
  const redisVersion = /^redis (\S+)/m.exec(result.stdout)?.[1] ?? '';
  assert.ok(versionMatches(postgres.split(' ')[0]!, spec.versions.postgresql!), `PostgreSQL ${postgres}, runtime.json wants ${spec.versions.postgresql}`);
  assert.ok(versionMatches(redisVersion, spec.versions['redis-server']!), `Redis ${redisVersion}, runtime.json wants ${spec.versions['redis-server']}`);
});

test('RUNNER_PYTHON is the escape hatch: the host\'s interpreter, labelled as such, or a clear reason', async () => {
  const env = await detectEnvironment({ ...process.env, RUNNER_PYTHON: '/nonexistent/python3' });
  assert.equal(env.system.pinned, false);
  assert.match(env.system.label, /your own interpreter \(RUNNER_PYTHON=\/nonexistent\/python3\): the lessons' claims may not hold/);
  assert.equal(env.python, undefined);
  assert.match(env.pythonProblem ?? '', /RUNNER_PYTHON=\/nonexistent\/python3 cannot import fastapi/);
  const hatch = await Runner.start({ env });
  try {
    const result = await runToEnd(hatch, python('print(1)\n'));
    assert.equal(result.exit.reason?.code, 'bad-request');
    assert.match(result.exit.reason!.message, /RUNNER_PYTHON=\/nonexistent\/python3 cannot import/);
  } finally {
    await hatch.close();
  }
});

test('without a built runtime, Python runs are refused with what to run', async () => {
  const env = await detectEnvironment({ ...process.env, ASYNCLAB_RUNTIME_CACHE: '/nonexistent/asynclab-cache' });
  assert.equal(env.python, undefined);
  assert.match(env.pythonProblem ?? '', /the sandbox runtime \(Debian 13\) is not built at \/nonexistent\/asynclab-cache\/[0-9a-f]{16}: run npm start, or node_modules\/\.bin\/node src\/runtime\/build\.ts/);
});
