import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildModel } from '../../src/timeline/model.ts';
import { toChromeTrace } from '../../src/timeline/perfetto.ts';

test('Perfetto export: named lanes, µs timestamps, overlapping requests as async b/e pairs', () => {
  const model = buildModel(readFileSync(new URL('../fixtures/traces/async-def-vs-def.ndjson', import.meta.url), 'utf8'));
  const { traceEvents, displayTimeUnit } = toChromeTrace(model, 'AsyncLab · test');
  assert.equal(displayTimeUnit, 'ms');
  const meta = traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
  assert.equal(meta.length, model.lanes.length);
  assert.ok(meta.some((e) => e.args?.name === 'event loop'));
  const begins = traceEvents.filter((e) => e.ph === 'b');
  const ends = traceEvents.filter((e) => e.ph === 'e');
  assert.equal(begins.length, 30, '15 requests + 15 handlers');
  assert.deepEqual(begins.map((e) => e.id).sort(), ends.map((e) => e.id).sort());
  for (const b of begins) {
    const e = ends.find((x) => x.id === b.id)!;
    assert.ok(e.ts >= b.ts && e.tid === b.tid && e.pid === b.pid);
  }
  const blocks = traceEvents.filter((e) => e.cat === 'loop-busy');
  assert.ok(blocks.every((e) => e.ph === 'X' && typeof e.dur === 'number' && Number.isInteger(e.ts)));
  assert.ok(JSON.parse(JSON.stringify({ traceEvents })).traceEvents.length === traceEvents.length);
});
