import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildModel, TraceBuilder } from '../../src/timeline/model.ts';
import { peakConcurrency, spansOf, summarize } from '../../src/timeline/summary.ts';

/** Traces recorded from real runs of the sandboxes (frozen copies). */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/traces/${name}.ndjson`, import.meta.url), 'utf8');

test('concurrent: three tasks overlap and the wall time is the longest wait, not the sum', () => {
  const model = buildModel(fixture('why-async-concurrent'));
  const s = summarize(model);
  assert.equal(s.incomplete, false);
  assert.equal(s.garbage, 0);
  assert.ok(s.wallMs >= 990 && s.wallMs < 1100, `wall ${s.wallMs}`);
  const workers = spansOf(model, 'task').filter((t) => t.name !== 'main');
  assert.deepEqual(workers.map((t) => t.name).sort(), ['fetch_weather', 'load_user', 'price_cart']);
  assert.equal(peakConcurrency(workers), 3);
  assert.equal(s.loopBlockedMs, 0);
});

test('serial: one task awaits each step in turn, the wall time is the sum', () => {
  const s = summarize(buildModel(fixture('why-async-serial')));
  assert.ok(s.wallMs >= 1200 && s.wallMs < 1300, `wall ${s.wallMs}`);
  assert.equal(s.peakConcurrency.task, 1);
});

test('blocked loop: time.sleep in five coroutines blocks the loop ≈5 s, one culprit at a time', () => {
  const s = summarize(buildModel(fixture('event-loop-two-sleeps')));
  assert.ok(s.loopBlockedMs >= 4990 && s.loopBlockedMs < 5200, `blocked ${s.loopBlockedMs}`);
  assert.ok(s.longestBlock!.ms >= 999 && s.longestBlock!.ms < 1100);
  assert.match(s.longestBlock!.culprit, /^rude/);
});

test('threads: a def endpoint under a 4-token limiter runs on 4 worker threads, 4 handlers at most', () => {
  const model = buildModel(fixture('async-def-vs-def-pool-limit'));
  const s = summarize(model);
  assert.equal(s.peakConcurrency.request, 8, 'all 8 requests were in flight together');
  assert.equal(s.peakConcurrency.handler, 4, 'only 4 ran at once');
  const threads = new Set(spansOf(model, 'handler').map((h) => h.args.tid));
  assert.equal(threads.size, 4);
  assert.ok(spansOf(model, 'handler').every((h) => h.args.kind === 'def' && h.args.thread === 'AnyIO worker thread'));
});

test('server: handler lanes say which endpoints overlapped and which were serialised by the blocked loop', () => {
  const model = buildModel(fixture('async-def-vs-def'));
  assert.equal(peakConcurrency(spansOf(model, 'handler', '/async-sleep')), 5);
  assert.equal(peakConcurrency(spansOf(model, 'handler', '/sync-sleep')), 5);
  assert.equal(peakConcurrency(spansOf(model, 'handler', '/async-blocking')), 1);
  // Client side, the blocked requests were all waiting together: that is what the reader feels.
  assert.equal(peakConcurrency(spansOf(model, 'request', '/async-blocking')), 5);
  const blocks = spansOf(model, 'loop').filter((b) => b.end - b.start > 900_000);
  assert.equal(blocks.length, 5);
  assert.ok(blocks.every((b) => b.args.culprit === 'GET /async-blocking'));
  assert.ok(model.instants.some((i) => i.name === 'ready'));
});

test('a killed run keeps what it has: open spans reach the end and the model says incomplete', () => {
  const lines = fixture('async-def-vs-def').trim().split('\n');
  // Cut the trace in the middle of the blocking phase, as a timeout would.
  const cut = lines.filter((l) => JSON.parse(l).ts < 6_500_000);
  const model = buildModel(cut, 6_500_000);
  const s = summarize(model);
  assert.equal(s.incomplete, true);
  const open = model.lanes.flatMap((l) => l.spans).filter((x) => x.open);
  assert.ok(open.length >= 3, `${open.length} open spans`);
  assert.ok(model.endUs >= 6_500_000);
  assert.ok(open.every((x) => x.end === model.endUs), 'open spans reach the last moment the trace knows');
  assert.ok(spansOf(model, 'request').length === 15);
});

test('garbage, partial and unmatched lines are counted and skipped, never thrown', () => {
  const builder = new TraceBuilder();
  builder.addText('{"ts":0,"ph":"B","lane":"task a","cat":"task","name":"a"}\nnot json at all\n{"ts":5,');
  builder.addText('"ph":"X"}\n{"ts":10,"ph":"E","lane":"task zzz","cat":"task","name":"zzz"}\n[1,2]\n{"ts":1,"ph":"Q","lane":"x","name":"y"}\n');
  builder.addText('{"ts":20,"ph":"E","lane":"task a","cat":"task","name":"a"}');
  const model = builder.model();
  assert.equal(model.garbage, 5);
  const [lane] = model.lanes;
  assert.equal(lane!.id, 'task a');
  assert.deepEqual([lane!.spans[0]!.start, lane!.spans[0]!.end], [0, 20]);
  assert.equal(model.incomplete, false);
});

test('back-to-back spans are not concurrent; nested overlap is', () => {
  const span = (start: number, end: number) => ({ lane: 'x', cat: 'x', name: 'x', start, end, args: {} });
  assert.equal(peakConcurrency([span(0, 10), span(10, 20), span(20, 30)]), 1);
  assert.equal(peakConcurrency([span(0, 30), span(5, 10), span(8, 9)]), 3);
  assert.equal(peakConcurrency([]), 0);
});
