/**
 * Draws a trace model as HTML rows (a string), plus a table of the same spans for screen
 * readers. Pure and DOM-free, so the build renders recorded timelines into static HTML and
 * the page re-renders live ones with the same code. All text is escaped.
 *
 * Layout, for reading: one row per lane (or per group of similar lanes, see rows.ts), the
 * event loop first. Each row is an HTML label that stays put while a narrow screen scrolls
 * the drawing sideways (real text, so its size is the page's, never scaled down), and a
 * small SVG strip drawn in a 0–1000 × 20 box stretched to the row's width. Strokes keep
 * their screen width (non-scaling), so a 1 ms span or a message tick stays visible. The
 * axis starts at the first traced activity (`model.startUs`); the tick labels are HTML, the
 * first anchored left and the last right, so none is cut at an edge.
 *
 * A lane's instants (see `Lane.instants`: messages on a stream client's request lane) are
 * ticks on top of its spans: full height for a message received, the upper half for one
 * sent. Ticks closer than MERGE_GAP units merge into one whose title counts and lists them,
 * so a lane holds at most about 1000 / MERGE_GAP ticks however many messages came.
 */
import type { Instant, Lane, LaneKind, Segment, TraceModel } from './model.ts';
import { chartRows, commonSpanName, type LaneGroup } from './rows.ts';
import { peakConcurrency, type Summary } from './summary.ts';

export interface TimelineStrings {
  kinds: Record<LaneKind, string>;
  /** "{wall} wall · peak {peak} {kind} at once · loop blocked {blocked}" style sentence, filled by `describe`. */
  summary: string;
  /** The same sentence for a run whose loop was never blocked past the threshold (no {blocked}, no {culprit}). */
  summaryNotBlocked: string;
  incomplete: string;
  /** Replaces {blocked} in `summary` when there are several loops (one per worker), with {blocked}. */
  loopsTotal: string;
  /** The label of a loop lane of one worker (`event loop w2 · pid 6`), with {name}. */
  loopLane: string;
  /** The duration cell of an instant's row in the table. */
  instant: string;
  /** The title of merged ticks, with {count}. */
  instants: string;
  /** A group row's title: {count} lanes named {name}, at most {peak} at once. */
  laneGroup: string;
  /** The note under a chart whose first activity came late, with {t}. */
  processStarted: string;
  /** Inside an opened group of the static page's compact drawing: its lanes come with the recorded trace. */
  groupLater: string;
  legend: {
    title: string;
    request: string;
    handler: string;
    taskWaiting: string;
    taskRunning: string;
    loop: string;
    thread: string;
    process: string;
    received: string;
    sent: string;
    group: string;
  };
  tableCaption: string;
  columns: { lane: string; span: string; start: string; end: string; duration: string };
  ms: string;
  s: string;
}

export interface RenderOptions {
  /** Draw the time axis this many µs long, from the first activity (to align two runs being compared). */
  axisUs?: number;
  idPrefix: string;
  /**
   * For the static page: no per-bar titles and no table links (`data-seg`), which made a
   * lesson's recorded timelines most of its weight. The live page draws the full chart.
   */
  compact?: boolean;
}

/** The strip's drawing box: 1000 units across (stretched to the row), 20 high. */
const PLOT_W = 1000;
const LANE_H = 20;
/** Ticks closer than this (plot units, about a pixel or two on screen) merge into one. */
export const MERGE_GAP = 2;
/** Names listed in the title of merged ticks. */
const LISTED = 3;
/** Longest instant name shown in a title or the table (the load driver already cuts data to 60). */
const NAME_MAX = 80;
/** Characters a lane label shows before the label column may cut it (then it gets a tooltip). */
const LABEL_FITS = 18;
/** A first activity later than this after the process started gets a note. */
const NOTE_AFTER_US = 20_000;

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

export function formatMs(ms: number, strings: Pick<TimelineStrings, 'ms' | 's'>): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} ${strings.s}` : `${Math.round(ms)} ${strings.ms}`;
}

/** The summary in words: what the chart's label says and the line above the drawing shows. */
export function describe(summary: Summary, strings: TimelineStrings): string {
  const kind: LaneKind = summary.lanes.request ? 'request' : summary.lanes.handler ? 'handler' : 'task';
  const blocked = formatMs(summary.loopBlockedMs, strings);
  const template = summary.loopBlockedMs > 0 ? strings.summary : strings.summaryNotBlocked;
  const text = fill(template, {
    wall: formatMs(summary.wallMs, strings),
    peak: summary.peakConcurrency[kind],
    kind: strings.kinds[kind],
    blocked: summary.lanes.loop > 1 ? fill(strings.loopsTotal, { blocked }) : blocked,
    culprit: summary.longestBlock?.culprit ?? '—',
  });
  return summary.incomplete ? `${text} ${strings.incomplete}` : text;
}

/** Round tick steps: 1, 2, 5 × 10^n µs, about six across. */
function tickStep(totalUs: number): number {
  const raw = totalUs / 6;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * pow).find((step) => step >= raw) ?? pow * 10;
}

/** What a lane is called in the drawing, the titles and the table: the name the code uses. */
export function laneName(lane: Lane, strings: TimelineStrings): string {
  if (lane.kind === 'loop') return lane.id === lane.label ? strings.kinds.loop : fill(strings.loopLane, { name: lane.label });
  if (lane.kind === 'other') return lane.label;
  const shared = commonSpanName(lane);
  // A request or handler by its number (the load driver's `#3` in the console) and what it asked for.
  if ((lane.kind === 'request' || lane.kind === 'handler') && shared) return `${strings.kinds[lane.kind]} ${lane.label} · ${shared}`;
  return `${strings.kinds[lane.kind]} ${lane.label}`;
}

/** A lane inside an open group: the group row already says the shared name, so the lane's own id tells them apart. */
function memberName(lane: Lane, strings: TimelineStrings): string {
  return lane.kind === 'task' ? `${strings.kinds.task} ${lane.label}` : `${strings.kinds[lane.kind]} ${lane.label}`;
}

const cut = (text: string) => (text.length > NAME_MAX ? `${text.slice(0, NAME_MAX - 1)}…` : text);

/** Times as the axis shows them: from the first traced activity. */
type At = (us: number) => string;

function spanTitle(lane: Lane, s: Segment, strings: TimelineStrings, at: At): string {
  const details = Object.entries(s.args)
    .filter(([key, value]) => ['status', 'thread', 'tid', 'kind', 'culprit', 'pid', 'error'].includes(key) && value !== undefined)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(', ');
  const timing = `${at(s.start)} → ${at(s.end)} (${formatMs((s.end - s.start) / 1000, strings)})`;
  const name = laneName(lane, strings);
  // A request lane already says its path, a task lane its name: no need to say it twice.
  return `${name}${name.endsWith(` ${s.name}`) ? '' : ` · ${s.name}`} · ${timing}${details ? ` · ${details}` : ''}`;
}

function instantTitle(lane: Lane, group: Instant[], strings: TimelineStrings, at: At): string {
  const first = group[0]!;
  const last = group[group.length - 1]!;
  if (group.length === 1) {
    const details = Object.entries(first.args)
      .filter(([key, value]) => ['n', 'event', 'id', 'status', 'code', 'reason', 'error'].includes(key) && value !== undefined && value !== null)
      .map(([key, value]) => `${key}: ${String(value)}`)
      .join(', ');
    return `${laneName(lane, strings)} · ${cut(first.name)} · ${at(first.ts)}${details ? ` · ${details}` : ''}`;
  }
  const listed = group.slice(0, LISTED).map((i) => cut(i.name));
  const more = group.length > LISTED ? ` … (+${group.length - LISTED})` : '';
  return `${laneName(lane, strings)} · ${fill(strings.instants, { count: group.length })} · ${at(first.ts)} → ${at(last.ts)} · ${listed.join(' | ')}${more}`;
}

/** A lane's instants in groups whose ticks would stand closer than MERGE_GAP units: one tick each. */
export function tickGroups(instants: Instant[], x: (us: number) => number): Instant[][] {
  const groups: Instant[][] = [];
  let startX = -Infinity;
  for (const instant of instants) {
    const at = x(instant.ts);
    if (at - startX < MERGE_GAP && groups.length) groups[groups.length - 1]!.push(instant);
    else {
      groups.push([instant]);
      startX = at;
    }
  }
  return groups;
}

/** Sent (`args.direction` "out") only when every instant of the tick was sent. */
const sent = (group: Instant[]) => group.every((i) => i.args.direction === 'out');

export interface Axis {
  /** The first traced activity, µs since the process started: the axis's zero. */
  originUs: number;
  /** How long the axis is, µs. */
  lengthUs: number;
  /** µs since the process started → plot units (0–1000). */
  x: (us: number) => number;
}

/** The axis of a model: from its first activity to its end (or `axisUs` long, to match a run it is compared with). */
export function axisOf(model: TraceModel, options: Pick<RenderOptions, 'axisUs'> = {}): Axis {
  const originUs = model.startUs;
  const lengthUs = Math.max(options.axisUs ?? 0, model.endUs - originUs, 1);
  return { originUs, lengthUs, x: (us: number) => ((us - originUs) / lengthUs) * PLOT_W };
}

const n = (value: number) => (Math.round(value * 10) / 10).toString();

// The tick grid behind every strip is a CSS background repeating every --tl-step (set on
// the chart): no line elements per lane, which kept a 47-lane page a third heavier.
function strip(content: string): string {
  return `<svg class="tl-plot" viewBox="0 0 ${PLOT_W} ${LANE_H}" preserveAspectRatio="none" aria-hidden="true">${content}</svg>`;
}

function laneStrip(lane: Lane, index: string, axis: Axis, strings: TimelineStrings, at: At, compact: boolean): string {
  const { x } = axis;
  const title = (text: () => string) => (compact ? '' : `<title>${escapeHtml(text())}</title>`);
  const seg = (id: string) => (compact ? '' : ` data-seg="${escapeHtml(id)}"`);
  const parts: string[] = [];
  for (const [j, s] of lane.spans.entries()) {
    // A task's span is its lifetime, drawn outlined; the steps it ran (if any were long enough to record) are solid on top.
    const cls = `tl-span tl-${lane.kind}${lane.kind === 'task' ? ' tl-lifetime' : ''}${s.open ? ' tl-open' : ''}`;
    parts.push(
      `<rect class="${cls}"${seg(`${index}-${j}`)} x="${n(x(s.start))}" y="1" width="${n(Math.max(0, x(s.end) - x(s.start)))}" height="${LANE_H - 2}"${compact ? '/>' : `>${title(() => spanTitle(lane, s, strings, at))}</rect>`}`,
    );
  }
  for (const s of lane.runs) {
    parts.push(`<rect class="tl-run" x="${n(x(s.start))}" y="4" width="${n(Math.max(0, x(s.end) - x(s.start)))}" height="${LANE_H - 8}"/>`);
  }
  for (const [k, group] of tickGroups(lane.instants, x).entries()) {
    // Inside the strip even for a message stamped a hair before its lane's first span.
    const where = n(Math.min(PLOT_W, Math.max(0, x(group[0]!.ts))));
    const out = sent(group);
    const cls = `tl-mark ${out ? 'tl-out' : 'tl-in'}${group.length > 1 ? ' tl-merged' : ''}`;
    parts.push(
      `<g class="${cls}"${seg(`${index}-i${k}`)}${group.length > 1 ? ` data-count="${group.length}"` : ''}>` +
        `<line class="tl-hit" x1="${where}" x2="${where}" y1="0" y2="${LANE_H}"/>` +
        `<line class="tl-tickmark" x1="${where}" x2="${where}" y1="1" y2="${out ? LANE_H / 2 : LANE_H - 1}"/>` +
        `${title(() => instantTitle(lane, group, strings, at))}</g>`,
    );
  }
  return parts.join('');
}

/**
 * A closed group's strip: how many of its lanes were busy at each moment, as a filled step
 * curve. Full height is the largest peak of any group in the chart, so five requests at once
 * stand five times taller than five one after another.
 */
function groupStrip(group: LaneGroup, scalePeak: number, axis: Axis, strings: TimelineStrings, at: At, compact: boolean): string {
  const spans = group.lanes.flatMap((l) => l.spans);
  const peak = Math.max(1, scalePeak);
  const edges = spans.flatMap((s) => [
    { at: s.start, step: 1 },
    { at: s.end, step: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  const y = (count: number) => n(LANE_H - 1 - (count / peak) * (LANE_H - 2));
  // A step curve: across at the current count, then up or down to the next (H and V keep it short).
  let d = '';
  let now = 0;
  for (const edge of edges) {
    const px = n(axis.x(edge.at));
    d += d ? `H${px}` : `M${px} ${y(now)}`;
    now += edge.step;
    d += `V${y(now)}`;
  }
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.end));
  const title = `${fill(strings.laneGroup, { count: group.lanes.length, name: `${strings.kinds[group.kind]} ${group.name}`, peak: peakConcurrency(spans) })} · ${at(first)} → ${at(last)}`;
  // A tick where each span starts: a 1 ms probe is invisible as area, not as a tick.
  // One path of vertical strokes, not an element per tick: a 30-probe group stays small.
  const ticks = `<path class="tl-start" d="${spans.map((s) => `M${n(axis.x(s.start))} 1V${LANE_H - 1}`).join('')}"/>`;
  return `<g class="tl-area tl-${group.kind}"><path d="${d}Z"/>${ticks}${compact ? '' : `<title>${escapeHtml(title)}</title>`}</g>`;
}

function laneRow(lane: Lane, index: string, name: string, axis: Axis, strings: TimelineStrings, at: At, compact: boolean): string {
  const full = laneName(lane, strings);
  // The full name as a tooltip only where the label column may cut it (about 20 characters fit); a
  // lane inside a group needs none, its group row says the shared name.
  // Compact (the static page): no tooltip; the full drawing that replaces it has them.
  const title = !compact && full.length > LABEL_FITS && full === name ? ` title="${escapeHtml(full)}"` : '';
  return `<div class="tl-lane" data-kind="${lane.kind}"><span class="tl-label"${title}>${escapeHtml(name)}</span>${strip(laneStrip(lane, index, axis, strings, at, compact))}</div>`;
}

/** A tick's time, as short as it is exact: ticks fall on round values (`500 ms`, `1 s`, `1.5 s`), so no `1.00 s`. */
function tickLabel(us: number, strings: Pick<TimelineStrings, 'ms' | 's'>): string {
  const ms = Math.round(us / 1000);
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(3))} ${strings.s}` : `${ms} ${strings.ms}`;
}

function axisRow(axis: Axis, step: number, strings: TimelineStrings): string {
  const labels: string[] = [];
  const last = Math.floor(axis.lengthUs / step) * step;
  for (let t = 0; t <= axis.lengthUs; t += step) {
    const pct = (t / axis.lengthUs) * 100;
    // The first label starts at its tick and the last ends at its own: neither is cut at the edge.
    const edge = t === 0 ? ' tl-first' : t === last && pct > 88 ? ' tl-last' : '';
    const minor = (t / step) % 2 === 1 ? ' tl-minor' : '';
    labels.push(`<span class="tl-tick-label${edge}${minor}" style="left:${n(pct)}%">${escapeHtml(tickLabel(t, strings))}</span>`);
  }
  return `<div class="tl-axis" aria-hidden="true"><span class="tl-label"></span><div class="tl-axis-scale">${labels.join('')}</div></div>`;
}

/**
 * The chart of one run: axis, then a row per lane or group (a closed <details> that opens
 * to its lanes, no script needed), in a box that scrolls sideways on a narrow screen while
 * the labels stay. Empty when nothing was traced: the caller says why instead.
 */
export function renderTimelineChart(model: TraceModel, summary: Summary, strings: TimelineStrings, options: RenderOptions): string {
  const rows = chartRows(model.lanes);
  if (!rows.length) return '';
  const axis = axisOf(model, options);
  const step = tickStep(axis.lengthUs);
  const at: At = (us) => formatMs((us - axis.originUs) / 1000, strings);
  // Spans keep their index among the drawn lanes in model order: the table links to them by it.
  const drawn = model.lanes.filter((l) => l.spans.length || l.runs.length);
  const index = (lane: Lane) => `${options.idPrefix}-${drawn.indexOf(lane)}`;
  const scalePeak = Math.max(1, ...rows.map((row) => (row.type === 'group' ? peakConcurrency(row.group.lanes.flatMap((l) => l.spans)) : 0)));
  const body = rows.map((row) => {
    const compact = options.compact === true;
    if (row.type === 'lane') return laneRow(row.lane, index(row.lane), laneName(row.lane, strings), axis, strings, at, compact);
    const { group } = row;
    const label = `${strings.kinds[group.kind]} ${group.name}`;
    // The shared name first, the kind after it: where a narrow column cuts, it cuts the kind, which the colour also tells.
    // Compact (the static page): a group's lanes one by one are what a reader sees only after
    // opening it, and a page's groups can hold a hundred lanes; they come with the full drawing,
    // which replaces this one (groups left open) when the recorded trace loads on intent.
    const members = compact
      ? `<p class="tl-later">${escapeHtml(strings.groupLater)}</p>`
      : group.lanes.map((lane) => laneRow(lane, index(lane), memberName(lane, strings), axis, strings, at, compact)).join('');
    return (
      `<details class="tl-group" data-kind="${group.kind}" data-count="${group.lanes.length}"><summary class="tl-lane tl-group-row" data-kind="${group.kind}">` +
      `<span class="tl-label" title="${escapeHtml(label)}"><span class="tl-count">×${group.lanes.length}</span> ${escapeHtml(group.name)} <span class="tl-kind">${escapeHtml(strings.kinds[group.kind])}</span></span>${strip(groupStrip(group, scalePeak, axis, strings, at, compact))}</summary>` +
      `<div class="tl-members">${members}</div></details>`
    );
  });
  return `<div class="tl-chart" role="group" style="--tl-step:${n((step / axis.lengthUs) * 100)}%" aria-label="${escapeHtml(describe(summary, strings))}">${axisRow(axis, step, strings)}${body.join('')}</div>`;
}

/** The note for a run whose first traced activity came well after the process started, or ''. */
export function startNote(model: TraceModel, strings: TimelineStrings): string {
  if (model.startUs < NOTE_AFTER_US) return '';
  return fill(strings.processStarted, { t: formatMs(model.startUs / 1000, strings) });
}

/** The legend for the kinds these models draw: colours, outlined (waiting) vs solid (running) task bars, ticks, groups. */
export function renderLegend(models: TraceModel[], strings: TimelineStrings): string {
  const lanes = models.flatMap((m) => m.lanes.filter((l) => l.spans.length || l.runs.length));
  if (!lanes.length) return '';
  const has = (kind: LaneKind) => lanes.some((l) => l.kind === kind);
  const l = strings.legend;
  const items: string[] = [];
  const item = (cls: string, text: string) => items.push(`<li><span class="tl-swatch ${cls}" aria-hidden="true"></span>${escapeHtml(text)}</li>`);
  if (has('loop')) item('tl-loop', l.loop);
  if (has('request')) item('tl-request', l.request);
  if (has('handler')) item('tl-handler', l.handler);
  if (has('task')) {
    item('tl-task tl-lifetime', l.taskWaiting);
    // Steps shorter than the harness's threshold are not recorded: no solid mark, no key for one.
    if (lanes.some((lane) => lane.kind === 'task' && lane.runs.length)) item('tl-task tl-run', l.taskRunning);
  }
  if (has('thread')) item('tl-thread', l.thread);
  if (has('process')) item('tl-process', l.process);
  if (lanes.some((lane) => lane.instants.some((i) => i.args.direction !== 'out'))) item('tl-tickmark tl-in', l.received);
  if (lanes.some((lane) => lane.instants.some((i) => i.args.direction === 'out'))) item('tl-tickmark tl-out', l.sent);
  if (models.some((m) => chartRows(m.lanes).some((r) => r.type === 'group'))) items.push(`<li><span class="tl-count" aria-hidden="true">×n</span>${escapeHtml(l.group)}</li>`);
  return `<div class="tl-legend"><p class="tl-legend-title">${escapeHtml(l.title)}</p><ul>${items.join('')}</ul></div>`;
}

/**
 * The same spans as a table (lane, span, start, end, duration), times from the first
 * activity like the axis, for screen readers and keyboards; after each lane's spans, its
 * instants one row each (never merged), linked to the tick that holds them.
 */
export function renderTimelineTable(model: TraceModel, strings: TimelineStrings, idPrefix: string, options: Pick<RenderOptions, 'axisUs'> = {}): string {
  const rows: string[] = [];
  const lanes = model.lanes.filter((l) => l.spans.length || l.runs.length);
  const axis = axisOf(model, options);
  const at = (us: number) => escapeHtml(formatMs((us - axis.originUs) / 1000, strings));
  lanes.forEach((lane, i) => {
    const name = escapeHtml(laneName(lane, strings));
    lane.spans.forEach((s, j) => {
      rows.push(
        `<tr tabindex="0" data-seg="${escapeHtml(`${idPrefix}-${i}-${j}`)}"><td>${name}</td><td>${escapeHtml(s.name)}</td><td>${at(s.start)}</td><td>${at(s.end)}</td><td>${escapeHtml(formatMs((s.end - s.start) / 1000, strings))}${s.open ? ' …' : ''}</td></tr>`,
      );
    });
    tickGroups(lane.instants, axis.x).forEach((group, k) => {
      for (const instant of group) {
        rows.push(
          `<tr tabindex="0" class="tl-instant-row" data-seg="${escapeHtml(`${idPrefix}-${i}-i${k}`)}"><td>${name}</td><td>${escapeHtml(cut(instant.name))}</td><td>${at(instant.ts)}</td><td>${at(instant.ts)}</td><td>${escapeHtml(strings.instant)}</td></tr>`,
        );
      }
    });
  });
  const c = strings.columns;
  return `<table class="tl-table"><caption>${escapeHtml(strings.tableCaption)}</caption><thead><tr><th scope="col">${escapeHtml(c.lane)}</th><th scope="col">${escapeHtml(c.span)}</th><th scope="col">${escapeHtml(c.start)}</th><th scope="col">${escapeHtml(c.end)}</th><th scope="col">${escapeHtml(c.duration)}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

