/**
 * Instants on the timeline: the messages a stream client sent and received, as ticks on its
 * request lane and rows of the table. Fixtures are the committed recordings of
 * streaming-websocket-room and streaming-sse (whole traces: they are small).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ui } from '../../src/i18n/ui.ts';
import { buildModel, type TraceModel } from '../../src/timeline/model.ts';
import { toChromeTrace } from '../../src/timeline/perfetto.ts';
import { MERGE_GAP, renderTimelineChart, renderTimelineTable } from '../../src/timeline/render.ts';
import { renderRows } from '../../src/timeline/section.ts';
import { summarize } from '../../src/timeline/summary.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/traces/${name}.ndjson`, import.meta.url), 'utf8');
const withoutInstants = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter((l) => JSON.parse(l).ph !== 'i');
const strings = ui.en.timeline;
const count = (html: string, pattern: RegExp) => html.match(new RegExp(pattern, 'g'))?.length ?? 0;
const svgOf = (model: TraceModel) => renderTimelineChart(model, summarize(model), strings, { idPrefix: 't' });

test('WebSocket room: every message is an instant on its client\'s lane, and each broadcast reaches all four lobby members', () => {
  const model = buildModel(fixture('streaming-websocket-room'));
  const onLanes = model.lanes.flatMap((l) => l.instants);
  assert.equal(onLanes.length, 16);
  assert.ok(onLanes.every((i) => i.cat === 'message' && i.lane.startsWith('request ')));
  for (const text of ['hello', 'anyone here?', 'bye']) {
    const received = onLanes.filter((i) => i.args.direction === 'in' && i.name.includes(`"text": "${text}"`));
    assert.deepEqual(received.map((i) => i.lane).sort(), ['request 1', 'request 2', 'request 3', 'request 4'], text);
    const sentAt = onLanes.find((i) => i.args.direction === 'out' && i.name.includes(`"text": "${text}"`))!.ts;
    assert.ok(received.every((i) => i.ts >= sentAt && i.ts - sentAt < 20_000), `${text}: fanned out within 20 ms`);
  }
  // Each lane's instants are in time order.
  for (const lane of model.lanes) assert.deepEqual(lane.instants.map((i) => i.ts), [...lane.instants.map((i) => i.ts)].sort((a, b) => a - b));
});

test('the harness\'s own instants create no lane and are not drawn, but stay in the model and the Perfetto export', () => {
  for (const name of ['streaming-websocket-room', 'streaming-sse', 'running-it-workers', 'async-def-vs-def']) {
    const model = buildModel(fixture(name));
    assert.ok(!model.lanes.some((l) => l.id === 'server'), name);
    assert.ok(!model.lanes.some((l) => l.instants.some((i) => i.cat === 'harness')), name);
    assert.ok(model.instants.some((i) => i.name === 'ready' && i.lane === 'server'), name);
    const withInstants = svgOf(model);
    // The same lanes as without any instant.
    assert.equal(count(withInstants, /<div class="tl-lane"/), count(svgOf(buildModel(withoutInstants(fixture(name)))), /<div class="tl-lane"/), name);
    assert.ok(!withInstants.includes('>ready<') && !/ · ready · /.test(withInstants), name);
  }
});

test('instants change no summary number', () => {
  for (const name of ['streaming-websocket-room', 'streaming-sse', 'running-it-workers', 'async-def-vs-def']) {
    assert.deepEqual(summarize(buildModel(fixture(name))), summarize(buildModel(withoutInstants(fixture(name)))), name);
  }
});

test('SSE: one tick per event on each client\'s lane, with a title like a span\'s; the table lists every one', () => {
  const model = buildModel(fixture('streaming-sse'));
  const svg = svgOf(model);
  assert.equal(count(svg, /<g class="tl-mark tl-in"/), 23, '10 + 10 + 3 events, none merged at this width');
  assert.equal(count(svg, /tl-merged/), 0);
  // Times from the first traced activity, as the axis reads.
  assert.match(svg, /<title>request 3 · SSE \/jobs\/7\/progress · ← \{&quot;job&quot;: &quot;7&quot;, &quot;step&quot;: 3, &quot;of&quot;: 10\} · 661 ms · n: 3, id: 3, event: progress<\/title>/);
  const table = renderTimelineTable(model, strings, 't');
  assert.equal(count(table, /class="tl-instant-row"/), 23);
  assert.match(table, /<td>request 1 · SSE \/jobs\/7\/progress<\/td><td>← \{&quot;job&quot;: &quot;7&quot;, &quot;step&quot;: 10, &quot;of&quot;: 10\}<\/td><td>1\.66 s<\/td><td>1\.66 s<\/td><td>instant<\/td>/);
  // A table row points at the tick that holds its instant.
  for (const [, seg] of table.matchAll(/class="tl-instant-row" data-seg="([^"]+)"/g)) assert.ok(svg.includes(`data-seg="${seg}"`), seg);
  // In the page's language.
  assert.match(renderTimelineTable(model, ui.zh.timeline, 't'), /<td>请求 1 · SSE \/jobs\/7\/progress<\/td><td>← [^<]+<\/td><td>[\d.]+ 秒<\/td><td>[\d.]+ 秒<\/td><td>瞬时<\/td>/);
});

test('WebSocket room: messages sent are half-height ticks of their own class; a send and its echo a pixel apart merge', () => {
  const svg = svgOf(buildModel(fixture('streaming-websocket-room')));
  const marks = svg.match(/<g class="tl-mark[^]*?<\/g>/g)!;
  const out = marks.filter((g) => g.startsWith('<g class="tl-mark tl-out"'));
  // The talker's "hello" and "bye", and the bad client's text; the talker's "anyone here?"
  // came back within 3 ms, closer than MERGE_GAP on this run's axis.
  assert.deepEqual(
    out.map((g) => g.match(/<title>(request \d) · [^·]+ · (→ [^·]+) ·/)!.slice(1, 3).join(' ')),
    ['request 4 → {&quot;text&quot;: &quot;hello&quot;}', 'request 4 → {&quot;text&quot;: &quot;bye&quot;}', 'request 5 → this is not JSON'],
  );
  const height = (g: string) => { const m = g.match(/class="tl-tickmark"[^>]* y1="([\d.]+)" y2="([\d.]+)"/)!; return Number(m[2]) - Number(m[1]); };
  assert.ok(out.every((g) => height(g) === 9), 'sent: the upper half');
  const merged = marks.filter((g) => g.includes('tl-merged'));
  assert.equal(merged.length, 1);
  assert.ok(merged.every((g) => g.includes('data-count="2"') && g.includes(' · 2 events · ') && g.includes('→ {&quot;text&quot;') && g.includes('← {&quot;from&quot;')));
  assert.ok(merged.every((g) => g.startsWith('<g class="tl-mark tl-in tl-merged"') && height(g) === 18), 'mixed: drawn full height');
  assert.equal(marks.length - out.length - merged.length, 11);
});

test('many messages close together merge into few ticks; the table keeps every one', () => {
  const base = fixture('streaming-sse').trim().split('\n');
  // A burst of 2000 messages in 50 ms on client 1's lane, as a token stream would send.
  const burst = Array.from({ length: 2000 }, (_, n) =>
    JSON.stringify({ ts: 1_320_000 + n * 25, ph: 'i', cat: 'message', lane: 'request 1', name: `← token ${n}`, args: { direction: 'in', n } }),
  );
  const model = buildModel([...base, ...burst]);
  const svg = svgOf(model);
  // The burst's width in plot units (1000 across, from the first activity).
  const burstPx = (50_000 / (model.endUs - model.startUs)) * 1000;
  const marks = count(svg, /<g class="tl-mark/);
  assert.ok(marks <= 23 + Math.ceil(burstPx / MERGE_GAP) + 1, `${marks} ticks`);
  const merged = [...svg.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]));
  assert.ok(merged.length > 0 && merged.reduce((a, b) => a + b, 0) >= 2000 - 30);
  assert.match(svg, /<title>request 1 · SSE \/jobs\/7\/progress · \d+ events · [\d.]+ ms → [\d.]+ ms · ← token 0 \| ← token 1 \| ← token 2 … \(\+\d+\)<\/title>/);
  // Ticks never stand closer than MERGE_GAP on a lane.
  assert.equal(model.lanes[1]!.id, 'request 1');
  const xs = [...svg.matchAll(/data-seg="t-1-i\d+"(?: data-count="\d+")?><line class="tl-hit" x1="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(xs.length >= 10);
  for (let k = 1; k < xs.length; k += 1) assert.ok(xs[k]! - xs[k - 1]! >= MERGE_GAP - 0.1, `${xs[k - 1]} → ${xs[k]}`);
  assert.equal(count(renderTimelineTable(model, strings, 't'), /class="tl-instant-row"/), 2023);
  assert.equal(summarize(model).wallMs, summarize(buildModel(base)).wallMs);
});

test('the section\'s table groups ticks on the axis shared with the row below, as the drawing does', () => {
  // The WebSocket run (2.4 s) over a longer one (8.6 s): on the shared axis the talker's "bye"
  // and its echo 10 ms later stand closer than MERGE_GAP, on the run's own axis they do not.
  const current = buildModel(fixture('streaming-websocket-room'));
  const previous = buildModel(fixture('async-def-vs-def'));
  assert.ok(previous.endUs > 3 * current.endUs);
  const { html } = renderRows([{ model: current, caption: 'now' }, { model: previous, caption: 'before' }], strings, 'r');
  const rows = [...html.matchAll(/class="tl-instant-row" data-seg="([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(rows.length, 16);
  const svg = html.slice(0, html.indexOf('<details class="tl-details"'));
  for (const seg of rows) assert.ok(new RegExp(`<g class="tl-mark[^"]*" data-seg="${seg}"`).test(svg), seg);
  // request 4 is the sixth lane drawn (the event loop comes first).
  assert.equal(count(svg, /data-seg="r-0-5-i\d+"/), 3, 'request 4: three ticks, one per exchange');
  assert.equal(count(svgOf(current), /data-seg="t-5-i\d+"/), 5, 'alone, every message of the last two exchanges is a tick of its own');
});

test('Perfetto: a message goes on its request lane\'s thread, the harness\'s ready on the process', () => {
  const model = buildModel(fixture('streaming-websocket-room'));
  const { traceEvents } = toChromeTrace(model, 'test');
  const tidOf = new Map(traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.args!.name, e.tid]));
  const instants = traceEvents.filter((e) => e.ph === 'i');
  assert.equal(instants.length, 17);
  const messages = instants.filter((e) => e.cat === 'message');
  assert.ok(messages.every((e) => e.s === 't' && e.tid > 0));
  const hello = messages.find((e) => e.name.startsWith('→ {"text": "hello"}'))!;
  assert.equal(hello.tid, tidOf.get('request 4'));
  const ready = instants.find((e) => e.name === 'ready')!;
  assert.deepEqual([ready.tid, ready.s], [0, 'p']);
});
