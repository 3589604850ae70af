/**
 * Draws a trace model as SVG markup (a string), plus a table of the same spans for screen
 * readers. Pure and DOM-free, so the build renders recorded timelines into static HTML and
 * the page re-renders live ones with the same code. All text is escaped.
 *
 * A lane's instants (see `Lane.instants`: messages on a stream client's request lane) are
 * ticks on top of its spans: full height for a message received, the upper half for one
 * sent. Ticks closer than MERGE_GAP units merge into one whose title counts and lists them,
 * so a lane holds at most about plot-width / MERGE_GAP ticks however many messages came.
 */
import type { Instant, Lane, LaneKind, Segment, TraceModel } from './model.ts';
import type { Summary } from './summary.ts';

export interface TimelineStrings {
  kinds: Record<LaneKind, string>;
  /** "{wall} wall · peak {peak} {kind} at once · loop blocked {blocked}" style sentence, filled by `describe`. */
  summary: string;
  incomplete: string;
  /** Replaces {blocked} in `summary` when there are several loops (one per worker), with {blocked}. */
  loopsTotal: string;
  /** The label of a loop lane of one worker (`event loop w2 · pid 6`), with {name}. */
  loopLane: string;
  /** The duration cell of an instant's row in the table. */
  instant: string;
  /** The title of merged ticks, with {count}. */
  instants: string;
  tableCaption: string;
  columns: { lane: string; span: string; start: string; end: string; duration: string };
  ms: string;
  s: string;
}

export interface RenderOptions {
  /** Width of the drawing in SVG units (it scales to its container). */
  width?: number;
  /** Draw the time axis up to this many µs (to align two runs being compared). */
  axisUs?: number;
  idPrefix: string;
}

const LANE_H = 18;
const GAP = 4;
const LABEL_W = 150;
const AXIS_H = 22;
/** Ticks closer than this (SVG units, about a pixel or two on screen) merge into one. */
export const MERGE_GAP = 2;
const TICK_W = 1.5;
/** Names listed in the title of merged ticks. */
const LISTED = 3;
/** Longest instant name shown in a title or the table (the load driver already cuts data to 60). */
const NAME_MAX = 80;

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

export function formatMs(ms: number, strings: Pick<TimelineStrings, 'ms' | 's'>): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} ${strings.s}` : `${Math.round(ms)} ${strings.ms}`;
}

/** The summary in words: what the aria-label says and the line under the drawing shows. */
export function describe(summary: Summary, strings: TimelineStrings): string {
  const kind: LaneKind = summary.lanes.request ? 'request' : summary.lanes.handler ? 'handler' : 'task';
  const blocked = formatMs(summary.loopBlockedMs, strings);
  const text = fill(strings.summary, {
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

/** What a lane is called in the drawing, the titles and the table. */
export function laneName(lane: Lane, strings: TimelineStrings): string {
  if (lane.kind === 'loop') return lane.id === lane.label ? strings.kinds.loop : fill(strings.loopLane, { name: lane.label });
  return `${strings.kinds[lane.kind]} ${lane.label}`;
}

const cut = (text: string) => (text.length > NAME_MAX ? `${text.slice(0, NAME_MAX - 1)}…` : text);

function spanTitle(lane: Lane, s: Segment, strings: TimelineStrings): string {
  const details = Object.entries(s.args)
    .filter(([key, value]) => ['status', 'thread', 'tid', 'kind', 'culprit', 'pid', 'error'].includes(key) && value !== undefined)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(', ');
  const timing = `${formatMs(s.start / 1000, strings)} → ${formatMs(s.end / 1000, strings)} (${formatMs((s.end - s.start) / 1000, strings)})`;
  return `${laneName(lane, strings)} · ${s.name} · ${timing}${details ? ` · ${details}` : ''}`;
}

function instantTitle(lane: Lane, group: Instant[], strings: TimelineStrings): string {
  const first = group[0]!;
  const last = group[group.length - 1]!;
  if (group.length === 1) {
    const details = Object.entries(first.args)
      .filter(([key, value]) => ['n', 'event', 'id', 'status', 'code', 'reason', 'error'].includes(key) && value !== undefined && value !== null)
      .map(([key, value]) => `${key}: ${String(value)}`)
      .join(', ');
    return `${laneName(lane, strings)} · ${cut(first.name)} · ${formatMs(first.ts / 1000, strings)}${details ? ` · ${details}` : ''}`;
  }
  const listed = group.slice(0, LISTED).map((i) => cut(i.name));
  const more = group.length > LISTED ? ` … (+${group.length - LISTED})` : '';
  const timing = `${formatMs(first.ts / 1000, strings)} → ${formatMs(last.ts / 1000, strings)}`;
  return `${laneName(lane, strings)} · ${fill(strings.instants, { count: group.length })} · ${timing} · ${listed.join(' | ')}${more}`;
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

/** µs → x in SVG units: the drawing and the table group ticks the same way. */
function scale(model: TraceModel, options: Pick<RenderOptions, 'width' | 'axisUs'>): (us: number) => number {
  const width = options.width ?? 760;
  const endUs = Math.max(options.axisUs ?? 0, model.endUs, 1);
  const plotW = width - LABEL_W - 8;
  return (us: number) => LABEL_W + (us / endUs) * plotW;
}

export function renderTimelineSvg(model: TraceModel, summary: Summary, strings: TimelineStrings, options: RenderOptions): string {
  const width = options.width ?? 760;
  const lanes = model.lanes.filter((l) => l.spans.length || l.runs.length);
  const endUs = Math.max(options.axisUs ?? 0, model.endUs, 1);
  const x = scale(model, options);
  const height = AXIS_H + lanes.length * (LANE_H + GAP) + GAP;
  const parts: string[] = [];
  const step = tickStep(endUs);
  for (let t = 0; t <= endUs; t += step) {
    parts.push(
      `<line class="tl-tick" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${AXIS_H - 4}" y2="${height}"/>`,
      `<text class="tl-tick-label" x="${x(t).toFixed(1)}" y="${AXIS_H - 8}" text-anchor="middle">${escapeHtml(formatMs(t / 1000, strings))}</text>`,
    );
  }
  lanes.forEach((lane, i) => {
    const y = AXIS_H + GAP + i * (LANE_H + GAP);
    const label = laneName(lane, strings);
    parts.push(`<text class="tl-label" x="${LABEL_W - 8}" y="${y + LANE_H - 5}" text-anchor="end">${escapeHtml(label.length > 24 ? `${label.slice(0, 23)}…` : label)}</text>`);
    for (const [j, s] of lane.spans.entries()) {
      const w = Math.max(1.5, x(s.end) - x(s.start));
      const cls = `tl-span tl-${lane.kind}${lane.kind === 'task' && lane.runs.length ? ' tl-lifetime' : ''}${s.open ? ' tl-open' : ''}`;
      parts.push(
        `<rect class="${cls}" data-seg="${escapeHtml(`${options.idPrefix}-${i}-${j}`)}" x="${x(s.start).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${LANE_H}" rx="3"><title>${escapeHtml(spanTitle(lane, s, strings))}</title></rect>`,
      );
    }
    for (const s of lane.runs) {
      const w = Math.max(1.5, x(s.end) - x(s.start));
      parts.push(`<rect class="tl-run" x="${x(s.start).toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${LANE_H - 6}" rx="2"/>`);
    }
    for (const [k, group] of tickGroups(lane.instants, x).entries()) {
      const at = x(group[0]!.ts);
      const out = sent(group);
      const h = out ? LANE_H / 2 - 1 : LANE_H - 2;
      const cls = `tl-mark ${out ? 'tl-out' : 'tl-in'}${group.length > 1 ? ' tl-merged' : ''}`;
      parts.push(
        `<g class="${cls}" data-seg="${escapeHtml(`${options.idPrefix}-${i}-i${k}`)}"${group.length > 1 ? ` data-count="${group.length}"` : ''}>` +
          `<rect class="tl-hit" x="${(at - 3).toFixed(1)}" y="${y}" width="6" height="${LANE_H}"/>` +
          `<rect class="tl-tickmark" x="${(at - TICK_W / 2).toFixed(1)}" y="${y + 1}" width="${TICK_W}" height="${h}"/>` +
          `<title>${escapeHtml(instantTitle(lane, group, strings))}</title></g>`,
      );
    }
  });
  const label = escapeHtml(describe(summary, strings));
  return `<svg class="tl-svg" role="img" aria-label="${label}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">${parts.join('')}</svg>`;
}

/**
 * The same spans as a table (lane, span, start, end, duration), for screen readers and
 * keyboards; after each lane's spans, its instants one row each (never merged), linked to
 * the tick that holds them.
 */
export function renderTimelineTable(model: TraceModel, strings: TimelineStrings, idPrefix: string, options: Pick<RenderOptions, 'width' | 'axisUs'> = {}): string {
  const rows: string[] = [];
  const lanes = model.lanes.filter((l) => l.spans.length || l.runs.length);
  const x = scale(model, options);
  lanes.forEach((lane, i) => {
    const name = escapeHtml(laneName(lane, strings));
    lane.spans.forEach((s, j) => {
      rows.push(
        `<tr tabindex="0" data-seg="${escapeHtml(`${idPrefix}-${i}-${j}`)}"><td>${name}</td><td>${escapeHtml(s.name)}</td><td>${escapeHtml(formatMs(s.start / 1000, strings))}</td><td>${escapeHtml(formatMs(s.end / 1000, strings))}</td><td>${escapeHtml(formatMs((s.end - s.start) / 1000, strings))}${s.open ? ' …' : ''}</td></tr>`,
      );
    });
    tickGroups(lane.instants, x).forEach((group, k) => {
      for (const instant of group) {
        const at = escapeHtml(formatMs(instant.ts / 1000, strings));
        rows.push(
          `<tr tabindex="0" class="tl-instant-row" data-seg="${escapeHtml(`${idPrefix}-${i}-i${k}`)}"><td>${name}</td><td>${escapeHtml(cut(instant.name))}</td><td>${at}</td><td>${at}</td><td>${escapeHtml(strings.instant)}</td></tr>`,
        );
      }
    });
  });
  const c = strings.columns;
  return `<table class="tl-table"><caption>${escapeHtml(strings.tableCaption)}</caption><thead><tr><th scope="col">${escapeHtml(c.lane)}</th><th scope="col">${escapeHtml(c.span)}</th><th scope="col">${escapeHtml(c.start)}</th><th scope="col">${escapeHtml(c.end)}</th><th scope="col">${escapeHtml(c.duration)}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
