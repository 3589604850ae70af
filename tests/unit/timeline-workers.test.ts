/**
 * One event-loop lane per worker process: `event loop w3 · pid 7` is a loop lane, drawn on
 * its own, and `loopBlockedMs` sums the loops. Fixture: the committed recording of
 * running-it-workers (three gunicorn workers, /export blocks one of them for 1.2 s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ui } from '../../src/i18n/ui.ts';
import { checkExpect, explainFailures } from '../../src/timeline/expect.ts';
import { buildModel, laneKind } from '../../src/timeline/model.ts';
import { describe, renderTimelineChart, renderTimelineTable } from '../../src/timeline/render.ts';
import { peakConcurrency, spansOf, summarize } from '../../src/timeline/summary.ts';
import { sandboxExpect } from '../../src/protocol/manifest.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/traces/${name}.ndjson`, import.meta.url), 'utf8');
const lines = (name: string) => fixture(name).trim().split('\n');
/** The same trace as the harness wrote it before each worker had its own loop lane. */
const oneLoopLane = (name: string) => lines(name).map((l) => l.replace(/"lane":"event loop [^"]+"/, '"lane":"event loop"'));
const strings = ui.en.timeline;

test('lane kinds: "event loop" and "event loop <worker>" are loops, nothing else is', () => {
  assert.equal(laneKind('event loop'), 'loop');
  assert.equal(laneKind('event loop w2 · pid 6'), 'loop');
  assert.equal(laneKind('event loopy'), 'other');
  assert.equal(laneKind('event'), 'other');
  assert.equal(laneKind('handler w2 · pid 6'), 'handler');
});

test('workers: each worker whose loop blocked has its own loop lane, holding only its own blocks', () => {
  const model = buildModel(fixture('running-it-workers'));
  const loops = model.lanes.filter((l) => l.kind === 'loop');
  assert.deepEqual(loops.map((l) => l.id).sort(), ['event loop w1 · pid 5', 'event loop w2 · pid 6', 'event loop w3 · pid 7']);
  assert.deepEqual(loops.map((l) => l.label).sort(), ['w1 · pid 5', 'w2 · pid 6', 'w3 · pid 7']);
  for (const lane of loops) {
    const [, worker, pid] = lane.id.match(/^event loop (w\d) · pid (\d+)$/)!;
    assert.ok(lane.spans.every((s) => s.args.worker === worker && s.args.pid === Number(pid)), lane.id);
  }
  // The blocked worker's handler and its loop block are on lanes of the same worker.
  const exportHandler = spansOf(model, 'handler', 'GET /export')[0]!;
  const exportBlock = spansOf(model, 'loop', 'GET /export')[0]!;
  assert.equal(exportBlock.lane, exportHandler.lane.replace(/^handler/, 'event loop'));
  assert.ok(exportBlock.end - exportBlock.start > 1_100_000);
  // Meanwhile the other workers answered every probe.
  const during = spansOf(model, 'handler', 'GET /health').filter((h) => h.start > exportBlock.start && h.end < exportBlock.end);
  assert.ok(during.length >= 10 && during.every((h) => h.lane !== exportHandler.lane), `${during.length} probes during the block`);
  // Loop lanes sit together first, where the eye starts, as the one loop lane does.
  const kinds = model.lanes.map((l) => l.kind);
  assert.deepEqual(kinds.slice(0, 3), ['loop', 'loop', 'loop']);
  assert.ok(!kinds.slice(3).includes('loop'));
});

test('loopBlockedMs is the sum over the loops: the same as when every worker shared one lane', () => {
  const split = summarize(buildModel(fixture('running-it-workers')));
  const shared = summarize(buildModel(oneLoopLane('running-it-workers')));
  assert.equal(split.lanes.loop, 3);
  assert.equal(shared.lanes.loop, 1);
  assert.equal(split.loopBlockedMs, shared.loopBlockedMs);
  assert.deepEqual(split.longestBlock, shared.longestBlock);
  assert.equal(split.longestBlock!.culprit, 'GET /export');
  assert.ok(split.loopBlockedMs >= 1200 && split.loopBlockedMs < 1300, `${split.loopBlockedMs}`);
  const blocks = spansOf(buildModel(fixture('running-it-workers')), 'loop');
  assert.equal(split.loopBlockedMs, Math.round(blocks.reduce((sum, b) => sum + b.end - b.start, 0) / 100) / 10);
  // Everything else is untouched by the split.
  assert.deepEqual({ ...split, lanes: {}, peakConcurrency: {} }, { ...shared, lanes: {}, peakConcurrency: {} });
  assert.equal(split.peakConcurrency.request, shared.peakConcurrency.request);
  assert.equal(peakConcurrency(blocks), 2, "in this run w1's first request (a cold start) blocked its loop during w3's block");
  // When they are, both count: loop time lost, which can exceed the wall time.
  const both = buildModel([
    '{"ts":0,"ph":"X","dur":1000000,"cat":"loop-busy","lane":"event loop w1 · pid 5","name":"a","args":{"culprit":"a"}}',
    '{"ts":0,"ph":"X","dur":1000000,"cat":"loop-busy","lane":"event loop w2 · pid 6","name":"b","args":{"culprit":"b"}}',
  ]);
  assert.deepEqual([summarize(both).loopBlockedMs, summarize(both).wallMs, summarize(both).peakConcurrency.loop], [2000, 1000, 2]);
});

test('the sandbox\'s claim holds for the fixture and for the committed recording, split or shared', () => {
  // The fixture is a snapshot of one real run (its numbers are asserted above); the committed
  // recording is whatever run was recorded last. The claim must read both the same way.
  const manifest = JSON.parse(readFileSync(new URL('../../sandboxes/running-it-workers/sandbox.json', import.meta.url), 'utf8'));
  const recorded = JSON.parse(readFileSync(new URL('../../sandboxes/running-it-workers/recorded.json', import.meta.url), 'utf8'));
  const run = { exitCode: recorded.exit.code, stdout: recorded.stdout };
  const oneLane = (trace: string[]) => trace.map((l) => l.replace(/"lane":"event loop [^"]+"/, '"lane":"event loop"'));
  for (const trace of [lines('running-it-workers'), oneLoopLane('running-it-workers'), recorded.trace as string[], oneLane(recorded.trace)]) {
    assert.equal(explainFailures(checkExpect(sandboxExpect.parse(manifest.expect), buildModel(trace), run)), '');
  }
});

test('single-loop traces keep their lane, label and numbers', () => {
  for (const name of ['event-loop-two-sleeps', 'async-def-vs-def', 'async-def-vs-def-pool-limit']) {
    const model = buildModel(fixture(name));
    const loops = model.lanes.filter((l) => l.kind === 'loop');
    assert.deepEqual(loops.map((l) => [l.id, l.label]), [['event loop', 'event loop']], name);
    const s = summarize(model);
    assert.equal(s.lanes.loop, 1);
    assert.doesNotMatch(describe(s, strings), /summed/, name);
    const svg = renderTimelineChart(model, s, strings, { idPrefix: 't' });
    assert.match(svg, /<span class="tl-label"[^>]*>event loop blocked<\/span>/, name);
  }
  assert.equal(summarize(buildModel(fixture('event-loop-two-sleeps'))).loopBlockedMs, 5001.7);
});

test('drawn one lane per worker, named in the page\'s language; the summary says the loops were summed', () => {
  const model = buildModel(fixture('running-it-workers'));
  const s = summarize(model);
  const svg = renderTimelineChart(model, s, strings, { idPrefix: 't' });
  assert.deepEqual([...svg.matchAll(/<span class="tl-label"[^>]*>(event loop[^<]*)<\/span>/g)].map((m) => m[1]), ['event loop w2 · pid 6', 'event loop w3 · pid 7', 'event loop w1 · pid 5']);
  assert.match(svg, /<title>event loop w3 · pid 7 · GET \/export · [\d.]+ (m)?s → [\d.]+ s \(1\.20 s\) · culprit: GET \/export, pid: 7<\/title>/);
  assert.match(describe(s, strings), /event loop blocked for 1\.29 s summed over the workers' loops \(longest by GET \/export\)/);
  const zh = renderTimelineChart(model, s, ui.zh.timeline, { idPrefix: 't' });
  assert.match(zh, />事件循环 w3 · pid 7</);
  assert.match(describe(s, ui.zh.timeline), /事件循环被阻塞 1\.29 秒（各 worker 的事件循环合计）/);
  assert.match(renderTimelineTable(model, strings, 't'), /<td>event loop w3 · pid 7<\/td><td>GET \/export<\/td>/);
  // No instants in this run, and the ready instant drew nothing.
  assert.doesNotMatch(svg, /tl-mark/);
});
