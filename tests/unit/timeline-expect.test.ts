import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkExpect, explainFailures } from '../../src/timeline/expect.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { sandboxExpect } from '../../src/protocol/manifest.ts';

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
  const serverModel = model('async-def-vs-def');
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
  const serverModel = model('async-def-vs-def');
  const holds = checkExpect(expectOf({ spanMs: { lane: 'handler', match: '/async-sleep', min: 900, max: 5000 } }), serverModel, ok);
  assert.equal(holds.length, 2);
  assert.deepEqual(holds.filter((r) => !r.ok), []);
  const fails = checkExpect(expectOf({ spanMs: [{ lane: 'handler', match: '/async-sleep', max: 10 }, { lane: 'process', min: 1 }] }), serverModel, ok);
  assert.match(fails[0]!.message, /^expected every one of the handlers matching \/async-sleep to last at most 10 ms, the longest took \d+(\.\d)? ms$/);
  assert.equal(fails[0]!.ok, false);
  assert.deepEqual(fails[1], { ok: false, message: 'expected process work items in the trace, found none', messageZh: '预期追踪记录中有进程任务，但一个也没有' });
  assert.throws(() => expectOf({ spanMs: { lane: 'request' } }), /needs min or max/);
});

// Relative rules, on traces recorded from real runs (kept as fixtures, so a re-recording of
// the course does not move these numbers): the GIL-bound threads run and the process-pool
// run of lesson 6 compute the same thing, and read differently.
const recorded = model;
const threads = recorded('offloading-cpu-threads');
const processes = recorded('offloading-cpu-processes');
const failed = (results: ReturnType<typeof checkExpect>) => results.filter((r) => !r.ok).map((r) => [r.message, r.messageZh]);

test('wallVsSpans: four GIL-bound threads each last the whole run; two processes work in two waves', () => {
  const threadsClaim = expectOf({ wallVsSpans: [{ lane: 'thread', of: 'longest', max: 1.25 }, { lane: 'thread', of: 'sum', max: 0.35 }] });
  assert.deepEqual(failed(checkExpect(threadsClaim, threads, ok)), []);
  const processesClaim = expectOf({
    wallVsSpans: [
      { lane: 'process', match: 'sum_of_squares', of: 'longest', min: 1.6 },
      { lane: 'process', match: 'sum_of_squares', of: 'sum', max: 0.7 },
    ],
  });
  assert.deepEqual(failed(checkExpect(processesClaim, processes, ok)), []);

  // Each claim, pointed at the other run, fails and says why.
  const onProcesses = expectOf({ wallVsSpans: [{ lane: 'process', match: 'sum_of_squares', of: 'longest', max: 1.25 }, { lane: 'process', match: 'sum_of_squares', of: 'sum', max: 0.35 }] });
  assert.deepEqual(failed(checkExpect(onProcesses, processes, ok)), [
    [
      'expected the wall time to be at most 1.25× the longest of the 4 process work items matching sum_of_squares, saw 2.02×',
      '预期总耗时不超过 4 个匹配 sum_of_squares 的进程任务中最长耗时的 1.25 倍，实际为 2.02 倍',
    ],
    [
      'expected the wall time to be at most 0.35× the summed time of the 4 process work items matching sum_of_squares, saw 0.56×: on average 1.79 of them were in progress at once',
      '预期总耗时不超过 4 个匹配 sum_of_squares 的进程任务的耗时总和的 0.35 倍，实际为 0.56 倍：平均同时有 1.79 个在进行',
    ],
  ]);
  assert.deepEqual(failed(checkExpect(expectOf({ wallVsSpans: { lane: 'thread', of: 'longest', min: 1.6 } }), threads, ok)), [
    ['expected the wall time to be at least 1.6× the longest of the 4 thread work items, saw 1.03×', '预期总耗时至少是 4 个线程任务中最长耗时的 1.6 倍，实际为 1.03 倍'],
  ]);
});

test('spanRatio compares two groups of spans, or two phases, of one run', () => {
  const serverModel = model('async-def-vs-def');
  // Five blocking handlers one after another: their phase is five times the longest one.
  // Five sleeping handlers side by side: their phase is about one of them.
  const phase = (match: string) => ({ lane: 'handler', match, of: 'extent', vs: { lane: 'handler', match, of: 'longest' }, min: 4.5 });
  assert.deepEqual(failed(checkExpect(expectOf({ spanRatio: phase('/async-blocking') }), serverModel, ok)), []);
  assert.deepEqual(failed(checkExpect(expectOf({ spanRatio: phase('/async-sleep') }), serverModel, ok)), [
    [
      'expected the time from the first of the 5 handlers matching /async-sleep starting to the last ending to be at least 4.5× the longest of the 5 handlers matching /async-sleep, saw 1×',
      '预期 5 个匹配 /async-sleep 的处理函数从第一个开始到最后一个结束的时长至少是 5 个匹配 /async-sleep 的处理函数中最长耗时的 4.5 倍，实际为 1 倍',
    ],
  ]);
  // The loop was blocked for all of the blocking handlers' time, and for none of the sleeping ones'.
  const blockedFor = (match: string, bound: { min?: number; max?: number }) => ({ lane: 'loop', match, of: 'sum', vs: { lane: 'handler', match, of: 'sum' }, ...bound });
  const holds = checkExpect(expectOf({ spanRatio: [blockedFor('/async-blocking', { min: 0.9 }), blockedFor('/async-sleep', { max: 0.1 })] }), serverModel, ok);
  assert.equal(holds.length, 2);
  assert.deepEqual(failed(holds), []);
  // A sum over no spans is 0 (the loop never blocked during the sleeps): the message says so.
  assert.match(holds[1]!.message, /^expected the summed time of no event-loop blocks matching \/async-sleep \(0 ms\) to be at most 0\.1× the summed time of the 5 handlers matching \/async-sleep, saw 0×$/);
  const swapped = checkExpect(expectOf({ spanRatio: blockedFor('/async-blocking', { max: 0.1 }) }), serverModel, ok);
  assert.equal(swapped[0]!.ok, false);
  assert.match(swapped[0]!.message, /^expected the summed time of the 5 event-loop blocks matching \/async-blocking to be at most 0\.1× the summed time of the 5 handlers matching \/async-blocking, saw 1(\.0\d)?×$/);
  assert.match(swapped[0]!.messageZh, /^预期 5 次匹配 \/async-blocking 的事件循环阻塞的耗时总和不超过 5 个匹配 \/async-blocking 的处理函数的耗时总和的 0\.1 倍，实际为 1(\.0\d)? 倍$/);
  // Nothing to compare with is a failure, not a pass.
  assert.deepEqual(failed(checkExpect(expectOf({ spanRatio: { lane: 'handler', of: 'sum', vs: { lane: 'process', of: 'sum' }, min: 1 } }), serverModel, ok)), [
    ['expected process work items in the trace, found none', '预期追踪记录中有进程任务，但一个也没有'],
  ]);
});

test('loopBlockedShare: three computations on the loop hold it for the whole run; offloaded threads barely touch it', () => {
  const cpuBound = recorded('why-async-cpu-bound');
  assert.deepEqual(failed(checkExpect(expectOf({ loopBlockedShare: { min: 0.85 } }), cpuBound, ok)), []);
  assert.deepEqual(failed(checkExpect(expectOf({ loopBlockedShare: { max: 0.1 } }), threads, ok)), []);
  assert.deepEqual(failed(checkExpect(expectOf({ loopBlockedShare: { min: 0.85 } }), threads, ok)), [
    ['expected the event loop to be blocked for at least 85% of the wall time, saw 5% (94.5 of 1969 ms)', '预期事件循环被阻塞的时间至少占总耗时的 85%，实际为 5%（1969 ms 中的 94.5 ms）'],
  ]);
  assert.deepEqual(failed(checkExpect(expectOf({ loopBlockedShare: { max: 0.5 } }), cpuBound, ok)), [
    ['expected the event loop to be blocked for at most 50% of the wall time, saw 100% (600.7 of 601.1 ms)', '预期事件循环被阻塞的时间最多占总耗时的 50%，实际为 100%（601.1 ms 中的 600.7 ms）'],
  ]);
});

test('every result, old rules too, reads in Chinese as well', () => {
  const results = checkExpect(expectOf({ exitCode: 0, serial: { lane: 'handler', match: '/async-sleep' }, wallMs: { max: 1000 } }), model('async-def-vs-def'), { exitCode: 1, stdout: '' });
  const zh = explainFailures(results, 'zh');
  assert.match(zh, /^预期退出码为 0，实际为 1；预期总耗时不超过 1000 ms，实际为 \d+(\.\d)? ms；预期匹配 \/async-sleep 的处理函数依次执行（峰值 1），实际峰值为 5：同时有 5 个在执行$/);
  for (const r of results) assert.ok(r.messageZh && !/[A-Za-z]{4,}/.test(r.messageZh.replace(/\/[\w/-]+|ms/g, '')), r.messageZh);
});

test('relative rules are validated: statistics by name, a bound, min ≤ max', () => {
  assert.throws(() => expectOf({ wallVsSpans: { lane: 'thread', of: 'median', max: 1 } }), /Invalid/);
  assert.throws(() => expectOf({ wallVsSpans: { lane: 'thread', of: 'sum' } }), /needs min or max/);
  assert.throws(() => expectOf({ spanRatio: { lane: 'loop', of: 'sum', vs: { lane: 'handler', of: 'sum' }, min: 2, max: 1 } }), /min is larger than max/);
  assert.throws(() => expectOf({ loopBlockedShare: {} }), /needs min or max/);
  assert.throws(() => expectOf({ loopBlockedShare: { min: -0.1 } }), /too small/i);
});
