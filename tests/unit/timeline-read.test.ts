/**
 * The timeline as a reader meets it (issue 16, item 3–4): the axis starts at the first
 * traced activity, lanes carry the names the code uses, many similar lanes fold into one
 * group row, the event loop comes first, a legend explains the marks, and a run that failed
 * or traced nothing says so instead of drawing zeros over empty axes. Fixtures: committed
 * traces (tests/fixtures/traces) and the blocking-the-loop recording the lesson page embeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ui } from '../../src/i18n/ui.ts';
import { buildModel, type TraceModel } from '../../src/timeline/model.ts';
import { axisOf, laneName, renderLegend, renderTimelineChart, renderTimelineTable, startNote } from '../../src/timeline/render.ts';
import { chartRows, codeName, MAX_ROWS } from '../../src/timeline/rows.ts';
import { renderRows } from '../../src/timeline/section.ts';
import { summarize } from '../../src/timeline/summary.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/traces/${name}.ndjson`, import.meta.url), 'utf8');
const recorded = (id: string) => (JSON.parse(readFileSync(new URL(`../../sandboxes/${id}/recorded.json`, import.meta.url), 'utf8')) as { trace: string[] }).trace;
const en = ui.en.timeline;
const zh = ui.zh.timeline;
const chartOf = (model: TraceModel, strings = en) => renderTimelineChart(model, summarize(model), strings, { idPrefix: 't' });
const ev = (e: Record<string, unknown>) => JSON.stringify({ cat: 'task', ...e });

test('zero is the first traced activity: startUs, the axis, titles and the table all count from it', () => {
  const trace = [
    ev({ ts: 190_000, ph: 'B', lane: 'task main', name: 'main' }),
    ev({ ts: 200_000, ph: 'X', dur: 300_000, lane: 'task worker', name: 'worker' }),
    ev({ ts: 492_000, ph: 'E', lane: 'task main', name: 'main' }),
  ];
  const model = buildModel(trace);
  assert.equal(model.startUs, 190_000);
  const axis = axisOf(model);
  assert.equal(axis.originUs, 190_000);
  assert.equal(axis.lengthUs, 310_000);
  assert.equal(axis.x(190_000), 0);
  assert.equal(axis.x(500_000), 1000);
  const chart = chartOf(model);
  // The first bar starts at the left edge, not 38 % into empty space.
  assert.match(chart, /data-seg="t-0-0" x="0" /);
  assert.match(chart, /<span class="tl-tick-label tl-first" style="left:0%">0 ms<\/span>/);
  assert.match(chart, /<title>task worker · 10 ms → 310 ms \(300 ms\)<\/title>/);
  assert.match(renderTimelineTable(model, en, 't'), /<td>task main<\/td><td>main<\/td><td>0 ms<\/td><td>302 ms<\/td>/);
  // The time before is a note, in both languages.
  assert.equal(startNote(model, en), 'Time 0 is the first traced activity; the process had started 190 ms earlier (interpreter, imports, server start-up).');
  assert.match(startNote(model, zh), /进程在此之前 190 毫秒/);
  assert.equal(startNote(buildModel([ev({ ts: 5_000, ph: 'X', dur: 10, lane: 'task main', name: 'main' })]), en), '', 'no note for a start within 20 ms');
  // A model with nothing traced starts at 0.
  assert.equal(buildModel('').startUs, 0);
});

test('the last tick label is anchored inside the axis; compared runs share a length, each from its own zero', () => {
  // 4.9 s long: ticks every 1 s, the last (4 s) at 82 % stays centred; at 5.0 s the 5 s tick is at the edge and ends there.
  const lane = (dur: number) => buildModel([ev({ ts: 600_000, ph: 'X', dur, lane: 'task main', name: 'main' })]);
  assert.match(chartOf(lane(5_000_000)), /<span class="tl-tick-label tl-last[^"]*" style="left:100%">5 s<\/span>/);
  assert.doesNotMatch(chartOf(lane(4_900_000)), /tl-last/);
  const { html } = renderRows(
    [
      { model: lane(1_000_000), caption: 'now' },
      { model: lane(2_000_000), caption: 'before' },
    ],
    { ...en, thisRun: '', previousRun: '' } as never,
    'r',
  );
  // The 1 s run fills half the shared 2 s axis, from its own first activity.
  assert.match(html, /data-seg="r-0-0-0" x="0" y="1" width="500"/);
  assert.match(html, /data-seg="r-1-0-0" x="0" y="1" width="1000"/);
});

test('lane names: requests by number and path, tasks by the name the code gave, the loop by what it shows', () => {
  const model = buildModel(recorded('blocking-the-loop-stall'));
  const names = model.lanes.map((l) => laneName(l, en));
  assert.ok(names.includes('request 21 · GET /sleep'), names.join(', '));
  assert.ok(names.includes('handler 23 · GET /report') || names.some((n) => /^handler \d+ · GET \/report$/.test(n)), names.join(', '));
  assert.equal(names[0], 'event loop blocked');
  assert.ok(model.lanes.map((l) => laneName(l, zh)).includes('请求 21 · GET /sleep'));
  // A task the code named (create_task(..., name="A")) is that name; repeats of a function share its code name.
  const tasks = buildModel([ev({ ts: 0, ph: 'X', dur: 5, lane: 'task A', name: 'A' }), ev({ ts: 0, ph: 'X', dur: 5, lane: 'task worker#2', name: 'worker#2' })]);
  assert.deepEqual(
    tasks.lanes.map((l) => laneName(l, en)),
    ['task A', 'task worker#2'],
  );
  assert.deepEqual(
    tasks.lanes.map((l) => codeName(l)),
    ['A', 'worker'],
  );
});

test('the event loop lane comes first in the model and the drawing', () => {
  for (const name of ['event-loop-two-sleeps', 'async-def-vs-def', 'why-async-cpu-bound', 'async-def-vs-def-pool-limit']) {
    const model = buildModel(fixture(name));
    assert.equal(model.lanes[0]!.kind, 'loop', name);
    assert.match(chartOf(model), /<\/div><\/div><div class="tl-lane" data-kind="loop"><span class="tl-label">event loop blocked<\/span>/, `${name}: right after the axis`);
  }
});

test('grouping: blocking-the-loop folds twenty /health probes per side into one row each; the key lanes stay on top', () => {
  const model = buildModel(recorded('blocking-the-loop-stall'));
  const drawn = model.lanes.filter((l) => l.spans.length || l.runs.length);
  assert.equal(drawn.length, 47);
  const rows = chartRows(model.lanes);
  assert.ok(rows.length <= MAX_ROWS, `${rows.length} rows`);
  assert.deepEqual(
    rows.map((r) => (r.type === 'lane' ? r.lane.id.replace(/\d+$/, 'n') : `${r.group.kind} ${r.group.name} ×${r.group.lanes.length}`)),
    ['event loop', 'request n', 'request n', 'request n', 'request GET /health ×20', 'handler n', 'handler n', 'handler n', 'handler GET /health ×20'],
  );
  const chart = chartOf(model);
  // A closed <details> per group, holding every one of its lanes, so nothing is lost and no script is needed.
  assert.equal((chart.match(/<details class="tl-group" data-kind="request" data-count="20">/g) ?? []).length, 1);
  assert.equal((chart.match(/<div class="tl-lane" data-kind="request">/g) ?? []).length, 23);
  assert.match(chart, /<span class="tl-count">×20<\/span> GET \/health <span class="tl-kind">request<\/span><\/span>/);
  assert.match(chart, /<title>20 × request GET \/health, at most 3 at once · /);
  // Each probe is a tick in the folded row.
  const requestGroup = chart.slice(chart.indexOf('data-kind="request" data-count="20"'), chart.indexOf('<div class="tl-members">', chart.indexOf('data-kind="request" data-count="20"')));
  const ticks = /<path class="tl-start" d="([^"]*)"/.exec(requestGroup)?.[1] ?? '';
  assert.equal((ticks.match(/M[\d.]+ 1V19/g) ?? []).length, 20);
});

test('the static page\'s compact drawing keeps each group\'s row and leaves its lanes to the full drawing', () => {
  const model = buildModel(recorded('blocking-the-loop-stall'));
  const full = chartOf(model);
  for (const [strings, lang] of [[en, 'en'], [zh, 'zh']] as const) {
    const compact = renderTimelineChart(model, summarize(model), strings, { idPrefix: 't', compact: true });
    // The group rows, with their ticks, are there; inside each, a note instead of twenty lanes.
    assert.equal((compact.match(/<details class="tl-group"/g) ?? []).length, 2, lang);
    assert.equal((compact.match(/<path class="tl-start"/g) ?? []).length, 2, lang);
    assert.equal((compact.match(/<div class="tl-lane" /g) ?? []).length, 7, lang); // loop, three requests, three handlers
    assert.equal((compact.match(/<div class="tl-members"><p class="tl-later">([^<]+)<\/p><\/div>/g) ?? []).length, 2, lang);
    assert.ok(compact.includes(strings.groupLater), lang);
    assert.ok(compact.length < full.length / 2, `${lang}: ${compact.length} vs ${full.length}`);
  }
  assert.equal((full.match(/<div class="tl-lane" /g) ?? []).length, 47);
});

test('grouping folds smaller sets too when the big ones do not bring a chart under the limit', () => {
  // Three requests to each of three endpoints, twenty-five probes: folding the probes alone leaves 22 rows.
  const make = (kind: string, name: string, count: number, from: number) =>
    Array.from({ length: count }, (_, i) => JSON.stringify({ ts: 1000 * (from + i), ph: 'X', dur: 500, cat: kind, lane: `${kind} ${from + i}`, name }));
  const trace = [
    ...make('request', 'GET /health', 25, 1),
    ...['GET /a', 'GET /b', 'GET /c'].flatMap((name, k) => make('request', name, 3, 100 + 10 * k)),
    ...['GET /a', 'GET /b', 'GET /c'].flatMap((name, k) => make('handler', name, 3, 100 + 10 * k)),
  ];
  const rows = chartRows(buildModel(trace).lanes);
  assert.ok(rows.length <= MAX_ROWS, `${rows.length} rows`);
  assert.deepEqual(
    rows.map((r) => (r.type === 'group' ? `${r.group.kind} ${r.group.name} ×${r.group.lanes.length}` : r.lane.id)),
    ['request GET /health ×25', 'request GET /a ×3', 'request GET /b ×3', 'request GET /c ×3', 'handler GET /a ×3', 'handler GET /b ×3', 'handler GET /c ×3'],
  );
});

test('grouping leaves small charts alone and never folds lanes that carry messages', () => {
  for (const name of ['event-loop-two-sleeps', 'why-async-cpu-bound', 'why-async-concurrent']) {
    const model = buildModel(fixture(name));
    assert.ok(chartRows(model.lanes).every((r) => r.type === 'lane'), name);
  }
  const ws = buildModel(fixture('streaming-websocket-room'));
  const rows = chartRows(ws.lanes);
  assert.ok(rows.length > MAX_ROWS || rows.some((r) => r.type === 'group'));
  for (const row of rows) if (row.type === 'group') assert.ok(row.group.lanes.every((l) => !l.instants.length), row.group.key);
  // The five lobby clients, who each send or receive messages, keep a lane of their own.
  assert.equal(rows.filter((r) => r.type === 'lane' && r.lane.kind === 'request').length, 6);
});

test('the legend names what is drawn: loop, requests, handlers, outlined vs solid task bars, ticks, groups', () => {
  const stall = renderLegend([buildModel(recorded('blocking-the-loop-stall'))], en);
  for (const text of ['event loop blocked', 'request (client side', 'handler (server side)', 'similar lanes folded']) assert.ok(stall.includes(text), text);
  assert.ok(!stall.includes('task alive'));
  const tasks = renderLegend([buildModel(fixture('event-loop-two-sleeps'))], en);
  assert.match(tasks, /<span class="tl-swatch tl-task tl-lifetime" aria-hidden="true"><\/span>task alive, waiting \(outlined\)/);
  assert.match(tasks, /<span class="tl-swatch tl-task tl-run" aria-hidden="true"><\/span>task running on the loop \(solid\)/);
  assert.ok(!tasks.includes('similar lanes'));
  // Tasks whose steps were all too short to record draw no solid mark, and the key does not promise one.
  const waiting = renderLegend([buildModel([ev({ ts: 0, ph: 'X', dur: 100_000, lane: 'task A', name: 'A' })])], en);
  assert.ok(waiting.includes('task alive, waiting') && !waiting.includes('task running'));
  assert.match(renderLegend([buildModel(fixture('streaming-websocket-room'))], zh), /收到消息.*发出消息/);
  assert.equal(renderLegend([buildModel('')], en), '');
});

test('a failed run that traced nothing says what happened, with no numbers and no axes; the previous-run row too', () => {
  const empty = buildModel('');
  const strings = { ...en, thisRun: 'this run', previousRun: 'previous run' };
  const outcome = { failed: true, text: 'Exited with code 1 after 0.21 s' };
  const { html, newest } = renderRows(
    [
      { model: empty, caption: 'this run', outcome },
      { model: empty, caption: 'previous run', outcome: { failed: true, text: 'Exited with code 137 after 20.00 s — timed out after 20 s' } },
    ],
    strings,
    'r',
  );
  assert.equal(newest.wallMs, 0);
  assert.ok(!html.includes('wall time') && !html.includes('tl-chart') && !html.includes('tl-axis') && !html.includes('tl-details'), html);
  assert.ok(html.includes('<p class="tl-message">Nothing to draw: the run ended before any traced activity (Exited with code 1 after 0.21 s). The console above says why.</p>'));
  assert.ok(html.includes('(Exited with code 137 after 20.00 s — timed out after 20 s)'));
  assert.equal((html.match(/data-empty="" data-failed=""/g) ?? []).length, 2);
  // While a run streams, an empty trace only means nothing has happened yet.
  assert.doesNotMatch(renderRows([{ model: empty, caption: 'this run', live: true }], strings, 'r').html, /tl-message|Nothing/);
  // A clean run with nothing traced says that instead; in Chinese too.
  assert.match(renderRows([{ model: empty, caption: '本次运行' }], { ...zh, thisRun: '', previousRun: '' } as never, 'r').html, /这次运行没有追踪到任何内容/);
  // A run that failed after some activity keeps its chart and says it ended early.
  const partial = renderRows([{ model: buildModel(fixture('why-async-serial')), caption: 'now', outcome }], strings, 'r').html;
  assert.ok(partial.includes('tl-chart') && partial.includes('The run ended early (Exited with code 1 after 0.21 s)'));
  // A loop never blocked is said in words, not "0 ms (longest by —)".
  assert.doesNotMatch(partial, /longest by —/);
  assert.match(partial, /the event loop was never blocked/);
});
