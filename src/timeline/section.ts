/**
 * The inside of a sandbox's timeline: a legend for what the rows draw, then one row per run
 * being shown (this run, and the one before it for comparison), each with its summary in
 * words (or, for a run that failed or traced nothing, what happened), the drawing, the
 * per-endpoint figures for servers, and one table of the newest run. Shared by the static
 * page (recorded run) and the live page, so both look the same.
 */
import type { TraceModel } from './model.ts';
import { describe, escapeHtml, formatMs, renderLegend, renderTimelineChart, renderTimelineTable, startNote, type TimelineStrings } from './render.ts';
import { requestGroups, summarize, type Summary } from './summary.ts';

export interface SectionStrings extends TimelineStrings {
  byEndpoint: string;
  /** with {count}, {wall}, {peak} */
  group: string;
  showTable: string;
  /** In the static page's table placeholder: the table comes with the page's script (compact drawing). */
  tableLater: string;
  /** A run that ended normally but traced nothing. */
  nothingTraced: string;
  /** A run that ended abnormally (exit code, limit, stop) before anything was traced, with {outcome}: the status line. */
  failedEmpty: string;
  /** A run that ended abnormally after some activity was traced, with {outcome}. */
  failedPartial: string;
}

/** How a run ended, as the status line said it: drawn instead of (or beside) the chart. */
export interface RunOutcome {
  /** Exit code not 0, a limit killed it, or the engine failed. */
  failed: boolean;
  /** The status line's words: "Exited with code 1 after 0.21 s", "timed out after 20 s". */
  text: string;
}

export interface TimelineRow {
  model: TraceModel;
  caption: string;
  outcome?: RunOutcome;
  /** Still running: an empty trace means "not yet", so nothing is said about it. */
  live?: boolean;
}

const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

const hasSpans = (model: TraceModel) => model.lanes.some((l) => l.spans.length || l.runs.length);

/** What to say about a row besides its numbers: why it is empty, or that it stopped early; '' when nothing needs saying. */
function message(row: TimelineRow, strings: SectionStrings): string {
  const traced = hasSpans(row.model);
  if (row.live) return '';
  if (row.outcome?.failed) return fill(traced ? strings.failedPartial : strings.failedEmpty, { outcome: row.outcome.text });
  return traced ? '' : strings.nothingTraced;
}

/** `compact`: the static page's form (no bar titles, no table; see RenderOptions.compact). */
export function renderRows(rows: TimelineRow[], strings: SectionStrings, idPrefix: string, options: { compact?: boolean } = {}): { html: string; newest: Summary } {
  const summaries = rows.map((row) => summarize(row.model));
  // Runs being compared share one time axis (each from its own first activity), so equal durations look equal.
  const axisUs = Math.max(...rows.map((r) => r.model.endUs - r.model.startUs));
  const parts = rows.map((row, i) => {
    const summary = summaries[i]!;
    const traced = hasSpans(row.model);
    const said = message(row, strings);
    const groups = requestGroups(row.model);
    const groupList = groups.length
      ? `<p class="tl-groups-title">${escapeHtml(strings.byEndpoint)}</p><ul class="tl-groups">${groups
          .map(
            (g) =>
              `<li data-group="${escapeHtml(g.name)}" data-wall-ms="${g.wallMs}" data-peak="${g.peak}"><code>${escapeHtml(g.name)}</code> ${escapeHtml(
                fill(strings.group, { count: g.count, wall: formatMs(g.wallMs, strings), peak: g.peak }),
              )}</li>`,
          )
          .join('')}</ul>`
      : '';
    const note = traced ? startNote(row.model, strings) : '';
    // Nothing traced: no numbers (they would all read 0) and no empty axes, only what happened.
    const summaryText = traced ? ` <span class="tl-summary">${escapeHtml(describe(summary, strings))}</span>` : '';
    const chart = traced
      ? `<div class="tl-scroll" tabindex="0" role="region" aria-label="${escapeHtml(row.caption)}">${renderTimelineChart(row.model, summary, strings, { idPrefix: `${idPrefix}-${i}`, axisUs, compact: options.compact === true })}</div>`
      : '';
    return `<figure class="tl-row" data-row="${i === 0 ? 'current' : 'previous'}"${traced ? '' : ' data-empty=""'}${row.outcome?.failed ? ' data-failed=""' : ''} data-wall-ms="${summary.wallMs}" data-peak-concurrency="${
      summary.peakConcurrency.request || summary.peakConcurrency.handler || summary.peakConcurrency.task
    }" data-loop-blocked-ms="${summary.loopBlockedMs}"><figcaption><span class="tl-caption">${escapeHtml(row.caption)}</span>${summaryText}</figcaption>${
      said ? `<p class="tl-message">${escapeHtml(said)}</p>` : ''
    }${note ? `<p class="tl-note">${escapeHtml(note)}</p>` : ''}${chart}${groupList}</figure>`;
  });
  const legend = renderLegend(
    rows.map((r) => r.model),
    strings,
  );
  // Compact: the table's place is kept (the full drawing swaps it in without moving anything), and says where it comes from.
  const table =
    rows[0] && hasSpans(rows[0].model)
      ? `<details class="tl-details"><summary>${escapeHtml(strings.showTable)}</summary>${
          options.compact ? `<p class="tl-note">${escapeHtml(strings.tableLater)}</p>` : renderTimelineTable(rows[0].model, strings, `${idPrefix}-0`, { axisUs })
        }</details>`
      : '';
  return { html: legend + parts.join('') + table, newest: summaries[0]! };
}
