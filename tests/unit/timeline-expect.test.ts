import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkExpect, explainFailures } from '../../src/timeline/expect.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { sandboxExpect } from '../../src/sandbox/manifest.ts';

const model = (name: string) => buildModel(readFileSync(new URL(`../fixtures/traces/${name}.ndjson`, import.meta.url), 'utf8'));
const ok = { exitCode: 0, stdout: 'page ready: Ada\n' };
const expectOf = (raw: unknown) => sandboxExpect.parse(raw);

test('a claim that holds passes every check', () => {
  const results = checkExpect(
    expectOf({
      exitCode: 0,
      wallMs: { min: 990, max: 1100 },
      peakConcurrency: { lane: 'task', min: 3 },
      concurrent: { lane: 'task' },
      loopBlockedMs: { max: 10 },
      stdoutIncludes: ['page ready'],
    }),
    model('why-async-concurrent'),
    ok,
  );
  assert.ok(results.length >= 6);
  assert.deepEqual(results.filter((r) => !r.ok), []);
});

test('failures read like sentences', () => {
  const serverModel = model('fastapi-three-endpoints');
  const results = checkExpect(
    expectOf({
      concurrent: { lane: 'handler', match: '/async-blocking', min: 5 },
      serial: { lane: 'handler', match: '/async-sleep' },
      wallMs: { max: 1000 },
      loopBlockedMs: { max: 100 },
      exitCode: 0,
      stdoutIncludes: ['never printed'],
    }),
    serverModel,
    { exitCode: 1, stdout: '' },
  );
  const failures = results.filter((r) => !r.ok).map((r) => r.message);
  assert.deepEqual(failures.slice(0, 3), [
    'expected exit code 0, saw 1',
    'expected the output to include "never printed"',
    failures[2]!,
  ]);
  assert.ok(failures.includes('expected handlers matching /async-blocking to overlap (peak ≥ 5), saw peak 1: they ran one after another'), failures.join('\n'));
  assert.ok(failures.includes('expected handlers matching /async-sleep to run one after another (peak 1), saw peak 5: 5 ran at once'), failures.join('\n'));
  assert.ok(failures.some((m) => /^expected the wall time to be at most 1000 ms, saw \d+(\.\d)? ms$/.test(m)));
  assert.ok(failures.some((m) => /^expected the time the event loop was blocked to be at most 100 ms, saw 50\d\d(\.\d)? ms$/.test(m)));
  assert.match(explainFailures(results), /; /);
});

test('a rule about spans the trace does not have fails and says so', () => {
  const results = checkExpect(expectOf({ serial: { lane: 'process' } }), model('why-async-serial'), ok);
  assert.deepEqual(results, [{ ok: false, message: 'expected process work items in the trace, found none', messageZh: '预期追踪记录中有进程任务，但一个也没有' }]);
});

test('peak bounds: min and max together', () => {
  const m = model('async-def-vs-def-pool-limit');
  const pass = checkExpect(expectOf({ peakConcurrency: { lane: 'handler', min: 4, max: 4 } }), m, ok);
  assert.equal(pass[0]!.ok, true);
  const fail = checkExpect(expectOf({ peakConcurrency: [{ lane: 'handler', max: 2 }, { lane: 'request', min: 9 }] }), m, ok);
  assert.deepEqual(
    fail.map((r) => r.message),
    [
      'expected the peak concurrency of handlers to be ≤ 2, saw peak 4: 4 ran at once',
      'expected the peak concurrency of requests to be ≥ 9, saw peak 8: 8 ran at once',
    ],
  );
});

test('spanMs bounds how long each matching span lasted', () => {
  const serverModel = model('fastapi-three-endpoints');
  const holds = checkExpect(expectOf({ spanMs: { lane: 'handler', match: '/async-sleep', min: 900, max: 5000 } }), serverModel, ok);
  assert.equal(holds.length, 2);
  assert.deepEqual(holds.filter((r) => !r.ok), []);
  const fails = checkExpect(expectOf({ spanMs: [{ lane: 'handler', match: '/async-sleep', max: 10 }, { lane: 'process', min: 1 }] }), serverModel, ok);
  assert.match(fails[0]!.message, /^expected every one of the handlers matching \/async-sleep to last at most 10 ms, the longest took \d+(\.\d)? ms$/);
  assert.equal(fails[0]!.ok, false);
  assert.deepEqual(fails[1], { ok: false, message: 'expected process work items in the trace, found none', messageZh: '预期追踪记录中有进程任务，但一个也没有' });
  assert.throws(() => expectOf({ spanMs: { lane: 'request' } }), /needs min or max/);
});
