/**
 * The inside of a sandbox's timeline: one row per run being shown (this run, and the one
 * before it for comparison), each with its summary in words, the drawing, the per-endpoint
 * figures for servers, and one table of the newest run. Shared by the static page (recorded
 * run) and the live page, so both look the same.
 */
import type { TraceModel } from './model.ts';
import { describe, escapeHtml, formatMs, renderTimelineSvg, renderTimelineTable, type TimelineStrings } from './render.ts';
import { requestGroups, summarize, type Summary } from './summary.ts';

export interface SectionStrings extends TimelineStrings {
  byEndpoint: string;
  /** with {count}, {wall}, {peak} */
  group: string;
  showTable: string;
}

export interface TimelineRow {
  model: TraceModel;
  caption: string;
}

const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

export function renderRows(rows: TimelineRow[], strings: SectionStrings, idPrefix: string): { html: string; newest: Summary } {
  const summaries = rows.map((row) => summarize(row.model));
  // Runs being compared share one time axis, so equal durations look equal.
  const axisUs = Math.max(...rows.map((r) => r.model.endUs));
  const parts = rows.map((row, i) => {
    const summary = summaries[i]!;
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
    return `<figure class="tl-row" data-row="${i === 0 ? 'current' : 'previous'}" data-wall-ms="${summary.wallMs}" data-peak-concurrency="${
      summary.peakConcurrency.request || summary.peakConcurrency.handler || summary.peakConcurrency.task
    }" data-loop-blocked-ms="${summary.loopBlockedMs}"><figcaption><span class="tl-caption">${escapeHtml(row.caption)}</span> <span class="tl-summary">${escapeHtml(
      describe(summary, strings),
    )}</span></figcaption><div class="tl-scroll" tabindex="0">${renderTimelineSvg(row.model, summary, strings, { idPrefix: `${idPrefix}-${i}`, axisUs })}</div>${groupList}</figure>`;
  });
  const table = rows[0] ? `<details class="tl-details"><summary>${escapeHtml(strings.showTable)}</summary>${renderTimelineTable(rows[0].model, strings, `${idPrefix}-0`, { axisUs })}</details>` : '';
  return { html: parts.join('') + table, newest: summaries[0]! };
}
