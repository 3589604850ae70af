/**
 * Draws a trace model as SVG markup (a string), plus a table of the same spans for screen
 * readers. Pure and DOM-free, so the build renders recorded timelines into static HTML and
 * the page re-renders live ones with the same code. All text is escaped.
 */
import type { Lane, LaneKind, Segment, TraceModel } from './model.ts';
import type { Summary } from './summary.ts';

export interface TimelineStrings {
  kinds: Record<LaneKind, string>;
  /** "{wall} wall · peak {peak} {kind} at once · loop blocked {blocked}" style sentence, filled by `describe`. */
  summary: string;
  incomplete: string;
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
  const text = fill(strings.summary, {
    wall: formatMs(summary.wallMs, strings),
    peak: summary.peakConcurrency[kind],
    kind: strings.kinds[kind],
    blocked: formatMs(summary.loopBlockedMs, strings),
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

function spanTitle(lane: Lane, s: Segment, strings: TimelineStrings): string {
  const details = Object.entries(s.args)
    .filter(([key, value]) => ['status', 'thread', 'tid', 'kind', 'culprit', 'pid', 'error'].includes(key) && value !== undefined)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(', ');
  const timing = `${formatMs(s.start / 1000, strings)} → ${formatMs(s.end / 1000, strings)} (${formatMs((s.end - s.start) / 1000, strings)})`;
  return `${strings.kinds[lane.kind]} ${lane.label} · ${s.name} · ${timing}${details ? ` · ${details}` : ''}`;
}

export function renderTimelineSvg(model: TraceModel, summary: Summary, strings: TimelineStrings, options: RenderOptions): string {
  const width = options.width ?? 760;
  const lanes = model.lanes.filter((l) => l.spans.length || l.runs.length);
  const start = 0;
  const endUs = Math.max(options.axisUs ?? 0, model.endUs, 1);
  const plotW = width - LABEL_W - 8;
  const x = (us: number) => LABEL_W + ((us - start) / (endUs - start)) * plotW;
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
    const label = lane.kind === 'loop' ? strings.kinds.loop : `${strings.kinds[lane.kind]} ${lane.label}`;
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
  });
  const label = escapeHtml(describe(summary, strings));
  return `<svg class="tl-svg" role="img" aria-label="${label}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">${parts.join('')}</svg>`;
}

/** The same spans as a table (lane, span, start, end, duration), for screen readers and keyboards. */
export function renderTimelineTable(model: TraceModel, strings: TimelineStrings, idPrefix: string): string {
  const rows: string[] = [];
  const lanes = model.lanes.filter((l) => l.spans.length || l.runs.length);
  lanes.forEach((lane, i) =>
    lane.spans.forEach((s, j) => {
      const laneName = lane.kind === 'loop' ? strings.kinds.loop : `${strings.kinds[lane.kind]} ${lane.label}`;
      rows.push(
        `<tr tabindex="0" data-seg="${escapeHtml(`${idPrefix}-${i}-${j}`)}"><td>${escapeHtml(laneName)}</td><td>${escapeHtml(s.name)}</td><td>${escapeHtml(formatMs(s.start / 1000, strings))}</td><td>${escapeHtml(formatMs(s.end / 1000, strings))}</td><td>${escapeHtml(formatMs((s.end - s.start) / 1000, strings))}${s.open ? ' …' : ''}</td></tr>`,
      );
    }),
  );
  const c = strings.columns;
  return `<table class="tl-table"><caption>${escapeHtml(strings.tableCaption)}</caption><thead><tr><th scope="col">${escapeHtml(c.lane)}</th><th scope="col">${escapeHtml(c.span)}</th><th scope="col">${escapeHtml(c.start)}</th><th scope="col">${escapeHtml(c.end)}</th><th scope="col">${escapeHtml(c.duration)}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
