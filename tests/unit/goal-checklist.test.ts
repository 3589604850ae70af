/**
 * A challenge's checklist on committed recordings (sandboxes/<id>/recorded.json): the same
 * goal judged on the lesson's serial code and on its concurrent rewrite, in both languages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sandboxExpect } from '../../src/protocol/manifest.ts';
import { checklistLine, goalChecklist, goalMet, goalRules } from '../../src/timeline/goal-checklist.ts';
import { buildModel } from '../../src/timeline/model.ts';

interface Rec {
  trace: string[];
  stdout: string;
  exit: { code: number | null };
}
const load = (id: string) => {
  const rec = JSON.parse(readFileSync(new URL(`../../sandboxes/${id}/recorded.json`, import.meta.url), 'utf8')) as Rec;
  return { model: buildModel(rec.trace), run: { exitCode: rec.exit.code, stdout: rec.stdout } };
};
const goal = sandboxExpect.parse({
  exitCode: 0,
  peakConcurrency: { lane: 'task', min: 3 },
  loopBlockedMs: { max: 50 },
  stdoutIncludes: ['page ready', 'never printed'],
});

test('one item per rule, in the schema\'s order (as the parsed goal holds them); a list of strings gives one item each', () => {
  assert.deepEqual(
    goalRules(goal).map((r) => r.key),
    ['loopBlockedMs', 'peakConcurrency', 'exitCode', 'stdoutIncludes.0', 'stdoutIncludes.1'],
  );
  const two = sandboxExpect.parse({ spanMs: [{ lane: 'loop', min: 1 }, { lane: 'task', max: 5 }], wallMs: { min: 1, max: 2 } });
  assert.deepEqual(goalRules(two).map((r) => r.key), ['wallMs', 'spanMs.0', 'spanMs.1']);
});

test('the serial page misses the overlap goal and says what it saw, in English and Chinese', () => {
  const { model, run } = load('why-async-serial');
  const items = goalChecklist(goal, model, run);
  assert.equal(items.length, 5);
  const peak = items.find((i) => i.key === 'peakConcurrency')!;
  assert.equal(peak.ok, false);
  assert.match(peak.en, /^Expected the peak concurrency of tasks to be ≥ 3, saw peak 1: they ran one after another$/);
  assert.match(peak.zh, /^预期任务的并发峰值 ≥ 3，实际峰值为 1：它们是依次执行的$/);
  assert.equal(checklistLine(peak, 'en'), `${peak.en} ✗`);
  assert.equal(checklistLine(peak, 'zh'), `${peak.zh} ✗`);
  const exit = items.find((i) => i.key === 'exitCode')!;
  assert.deepEqual([exit.ok, exit.en, exit.zh], [true, 'Expected exit code 0, saw 0', '预期退出码为 0，实际为 0']);
  const [found, missing] = items.filter((i) => i.key.startsWith('stdoutIncludes'));
  assert.deepEqual([found!.ok, found!.en, found!.zh], [true, 'Expected the output to include "page ready": it did', '预期输出中包含 "page ready"：实际包含']);
  assert.deepEqual([missing!.ok, missing!.en, missing!.zh], [false, 'Expected the output to include "never printed": it did not', '预期输出中包含 "never printed"：实际没有']);
  assert.equal(goalMet(items), false);
});

test('the concurrent rewrite meets the same overlap; the measured peak comes from its trace', () => {
  const { model, run } = load('why-async-concurrent');
  const items = goalChecklist(sandboxExpect.parse({ exitCode: 0, peakConcurrency: { lane: 'task', min: 3 }, stdoutIncludes: ['page ready'] }), model, run);
  assert.deepEqual(items.map((i) => i.ok), [true, true, true]);
  assert.equal(goalMet(items), true);
  const peak = items.find((i) => i.key === 'peakConcurrency')!;
  const seen = Number(/saw peak (\d+)/.exec(peak.en)![1]);
  assert.ok(seen >= 3);
  assert.match(peak.zh, new RegExp(`实际峰值为 ${seen}：同时有 ${seen} 个在执行`));
  assert.equal(checklistLine(peak, 'en'), `${peak.en} ✓`);
});

test('a rule with two bounds is one item; it holds only when both do', () => {
  const { model, run } = load('why-async-serial');
  const wall = (min: number, max: number) => goalChecklist(sandboxExpect.parse({ wallMs: { min, max } }), model, run);
  const [both] = wall(1, 100_000);
  assert.equal(both!.ok, true);
  assert.match(both!.en, /^Expected the wall time to be at least 1 ms, saw [\d.]+ ms; expected the wall time to be at most 100000 ms, saw [\d.]+ ms$/);
  assert.match(both!.zh, /^预期总耗时至少为 1 ms，实际为 [\d.]+ ms；预期总耗时不超过 100000 ms，实际为 [\d.]+ ms$/);
  const [tooTight] = wall(1, 10);
  assert.equal(tooTight!.ok, false, 'the max bound fails the item although the min holds');
});

test('a blocked loop: the stalled server misses a 50 ms goal and names the milliseconds it saw', () => {
  const { model, run } = load('blocking-the-loop-stall');
  const [item] = goalChecklist(sandboxExpect.parse({ loopBlockedMs: { max: 50 } }), model, run);
  assert.equal(item!.ok, false);
  const seen = Number(/saw (\d+(?:\.\d+)?) ms/.exec(item!.en)![1]);
  assert.ok(seen > 50, item!.en);
  assert.equal(item!.zh, `预期事件循环被阻塞的时间不超过 50 ms，实际为 ${seen} ms`);
  // Spans the goal names but the run lacks are a failure that says so, not a pass.
  const [none] = goalChecklist(sandboxExpect.parse({ concurrent: { lane: 'thread' } }), model, run);
  assert.equal(none!.ok, false);
  assert.match(none!.en, /^Expected thread work items in the trace, found none$/);
  assert.match(none!.zh, /^预期追踪记录中有线程任务，但一个也没有$/);
});

test('an empty goal is never met', () => {
  assert.equal(goalMet([]), false);
});
