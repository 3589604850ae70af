/**
 * The live side of a sandbox's timeline: draws the trace while a run streams (throttled to
 * animation frames), keeps the run before it as a comparison row, mirrors the newest
 * summary into data attributes, links table rows to their spans, and exports to Perfetto.
 */
import { buildModel, TraceBuilder, type TraceModel } from '../../timeline/model.ts';
import { toChromeTrace } from '../../timeline/perfetto.ts';
import { renderRows, type RunOutcome, type SectionStrings } from '../../timeline/section.ts';

interface Shown {
  model: TraceModel;
  caption: string;
  outcome?: RunOutcome;
}

export class TimelineView {
  private readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly strings: SectionStrings & { thisRun: string; previousRun: string };
  private readonly id: string;
  private shown: Shown | undefined;
  private previous: Shown | undefined;
  private builder: TraceBuilder | undefined;
  private startedAt = 0;
  private frame = 0;
  private outcome: RunOutcome | undefined;

  private readonly recordedCaption: string | null;

  /** `recordedCaption`: the caption of the page's recorded run, whose trace arrives later (`showRecorded`). */
  constructor(root: HTMLElement, id: string, strings: SectionStrings & { thisRun: string; previousRun: string }, recordedCaption: string | null) {
    this.root = root;
    this.id = id;
    this.body = root.querySelector<HTMLElement>('[data-timeline-body]')!;
    this.strings = strings;
    this.recordedCaption = recordedCaption;
  }

  /**
   * The recorded trace has loaded: the page's compact drawing (no bar titles, no table) is
   * redrawn in full, keeping which groups were open and where the keyboard focus was.
   */
  showRecorded(trace: string[] | null): void {
    if (!trace || this.recordedCaption === null || this.shown || this.builder) return;
    this.shown = { model: buildModel(trace), caption: this.recordedCaption };
    const details = [...this.body.querySelectorAll('details')];
    const open = details.map((d) => d.open);
    const focusable = [...this.body.querySelectorAll<HTMLElement>('[tabindex], summary')];
    const focused = focusable.indexOf(document.activeElement as HTMLElement);
    this.body.innerHTML = renderRows([this.shown], this.strings, `tl-${this.id}`).html; // our own markup, escaped by the renderer
    this.body.querySelectorAll('details').forEach((d, i) => {
      if (open[i]) d.open = true;
    });
    if (focused >= 0) this.body.querySelectorAll<HTMLElement>('[tabindex], summary')[focused]?.focus();
    this.linkTable();
  }

  /** A run begins: what was on screen becomes the comparison row. */
  begin(): void {
    // A run that was live on this page becomes "the previous run"; a recording keeps its caption.
    if (this.shown) {
      const caption = this.shown.caption === this.strings.thisRun ? this.strings.previousRun : this.shown.caption;
      this.previous = { model: this.shown.model, caption, ...(this.shown.outcome ? { outcome: this.shown.outcome } : {}) };
    }
    this.outcome = undefined;
    this.builder = new TraceBuilder();
    this.startedAt = performance.now();
    this.root.hidden = false;
    this.schedule();
  }

  add(text: string): void {
    this.builder?.addText(text.endsWith('\n') ? text : `${text}\n`);
    this.schedule();
  }

  /**
   * How the run ended, in the status line's words: a failed run says so in its row (and an
   * empty one says only that, instead of zeros over empty axes). Call before `end`.
   */
  settle(outcome: RunOutcome): void {
    this.outcome = outcome;
  }

  end(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.draw(true);
    this.builder = undefined;
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw(false);
    });
  }

  private draw(final: boolean): void {
    if (!this.builder) return;
    // While running, open spans grow to "now"; at the end they stop where the trace stops.
    const nowUs = final ? undefined : (performance.now() - this.startedAt) * 1000;
    this.shown = { model: this.builder.model(nowUs), caption: this.strings.thisRun, ...(final && this.outcome ? { outcome: this.outcome } : {}) };
    const rows = [{ ...this.shown, live: !final }, ...(this.previous ? [this.previous] : [])];
    const { html, newest } = renderRows(rows, this.strings, `tl-${this.id}`);
    this.body.innerHTML = html; // our own markup; every text in it is escaped by the renderer
    this.root.dataset.wallMs = String(newest.wallMs);
    this.root.dataset.peakConcurrency = String(newest.peakConcurrency.request || newest.peakConcurrency.handler || newest.peakConcurrency.task);
    this.root.dataset.loopBlockedMs = String(newest.loopBlockedMs);
    this.linkTable();
    if (final) this.root.dataset.state = 'done';
  }

  /** Focus or hover a table row and its span (or the tick of its instant) lights up in the drawing. */
  private linkTable(): void {
    for (const row of this.body.querySelectorAll<HTMLElement>('tr[data-seg]')) {
      const rect = this.body.querySelector(`svg [data-seg="${CSS.escape(row.dataset.seg!)}"]`);
      const on = () => rect?.classList.add('tl-focus');
      const off = () => rect?.classList.remove('tl-focus');
      row.addEventListener('focus', on);
      row.addEventListener('blur', off);
      row.addEventListener('mouseenter', on);
      row.addEventListener('mouseleave', off);
    }
  }

  /** The trace of the reader's newest run on this page, once it has ended (not a recording). */
  lastRun(): TraceModel | undefined {
    return !this.builder && this.shown?.caption === this.strings.thisRun ? this.shown.model : undefined;
  }

  /** Downloads what is shown (the newest run, else the recording) as a Chrome trace for Perfetto. */
  export(): void {
    if (!this.shown) return;
    const json = JSON.stringify(toChromeTrace(this.shown.model, `AsyncLab · ${this.id}`));
    const link = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(new Blob([json], { type: 'application/json' })),
      download: `${this.id}.trace.json`,
    });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }
}
