/**
 * The sandbox console, built to stay responsive under any output rate (issue 16, item 1):
 * - chunks are only queued as they arrive; the DOM is touched once per animation frame;
 * - the DOM keeps a bounded tail (the last `domLines` lines, at most `domChars` characters),
 *   older lines are counted in a bar above it that offers the full output as a download;
 * - layout is read only in the scroll handler (where the reader moves) and once per frame to
 *   stick to the bottom, and only while the reader is at the bottom;
 * - the copy kept for the download is bounded too (OutputStore).
 * Output is inserted as text, never as HTML.
 */
import { countLines, cutIndex, OutputStore } from './output-buffer.ts';

export type OutputKind = 'stdout' | 'stderr' | 'note';

export interface ConsoleStrings {
  /** {n}: how many earlier lines are not on screen */
  hiddenLines: string;
  /** A single line so long its start is off screen (no whole line hidden). */
  hiddenStart: string;
  /** First line of the download when even the page's copy had to drop the start; {n} lines. */
  notKept: string;
}

export const consoleLimits = {
  domLines: 500,
  domChars: 50_000,
  /** Twice every engine's output cap (1 MiB), so a normal run downloads whole. */
  keepChars: 2 * 1024 * 1024,
} as const;

interface Segment {
  node: Text;
  text: string;
  lines: number;
}

/** Within this many pixels of the bottom counts as "at the bottom". */
const bottomSlack = 24;
/**
 * While output floods (a frame's worth pushes lines off screen), the tail is redrawn at
 * most this often: nobody reads a flood at 60 frames a second, and each redraw costs a
 * layout of the tail.
 */
const floodIntervalMs = 100;

export class ConsoleView {
  private readonly log: HTMLElement;
  private readonly cut: HTMLElement | null;
  private readonly cutText: HTMLElement | null;
  private readonly strings: ConsoleStrings;
  private readonly fileName: string;
  private readonly limits: typeof consoleLimits;
  private store: OutputStore;
  private pending: Array<{ kind: OutputKind; text: string }> = [];
  private pendingChars = 0;
  private pendingLines = 0;
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = 0;
  private flooding = false;
  private hiddenAtLastFlush = 0;
  private readonly numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  private shown: Segment[] = [];
  private shownLines = 0;
  private shownChars = 0;
  private hiddenLines = 0;
  private hiddenChars = 0;
  /** Whether the reader is at the bottom (then new output scrolls into view). */
  private stuck = true;

  constructor(log: HTMLElement, cut: HTMLElement | null, strings: ConsoleStrings, fileName: string, limits = consoleLimits) {
    this.log = log;
    this.cut = cut;
    this.cutText = cut?.querySelector<HTMLElement>('[data-console-cut-text]') ?? null;
    this.strings = strings;
    this.fileName = fileName;
    this.limits = limits;
    this.store = new OutputStore(limits.keepChars);
    log.addEventListener('scroll', () => {
      this.stuck = log.scrollHeight - log.scrollTop - log.clientHeight < bottomSlack;
    }, { passive: true });
    cut?.querySelector('[data-action="download-output"]')?.addEventListener('click', () => this.download());
  }

  /** A new run: an empty console, following the output. */
  clear(): void {
    this.unschedule();
    this.flooding = false;
    this.hiddenAtLastFlush = 0;
    this.store = new OutputStore(this.limits.keepChars);
    this.pending = [];
    this.pendingChars = this.pendingLines = 0;
    this.shown = [];
    this.shownLines = this.shownChars = this.hiddenLines = this.hiddenChars = 0;
    this.stuck = true;
    this.log.textContent = '';
    this.log.removeAttribute('aria-busy');
    if (this.cut) this.cut.hidden = true;
  }

  /** Queues a chunk; it reaches the page at the next frame. Costs no layout. */
  append(text: string, kind: OutputKind): void {
    if (!text) return;
    this.store.add(text);
    const last = this.pending.at(-1);
    if (last && last.kind === kind) last.text += text;
    else this.pending.push({ kind, text });
    this.pendingChars += text.length;
    this.pendingLines += countLines(text);
    // Frames may not come (a background tab): never hold more than a screenful's worth.
    if (this.pendingChars > 2 * this.limits.domChars || this.pendingLines > 2 * this.limits.domLines) this.compactPending();
    this.schedule();
  }

  private schedule(): void {
    if (this.frame || this.timer) return;
    const wait = this.flooding ? this.lastFlush + floodIntervalMs - performance.now() : 0;
    if (wait <= 0) this.frame = requestAnimationFrame(() => this.flush());
    else
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.frame = requestAnimationFrame(() => this.flush());
      }, wait);
  }

  private unschedule(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Draws what is queued now: a frame came, or (`final`) the run ended. While output floods
   * the log is marked busy, so a screen reader is not made to read a thousand lines a second.
   */
  flush(final = false): void {
    this.unschedule();
    if (final) this.log.removeAttribute('aria-busy');
    if (!this.pending.length) return;
    this.compactPending();
    const fragment = document.createDocumentFragment();
    for (const { kind, text } of this.pending) {
      const span = document.createElement('span');
      if (kind !== 'stdout') span.className = kind;
      const node = document.createTextNode(text);
      span.append(node);
      fragment.append(span);
      const lines = countLines(text);
      this.shown.push({ node, text, lines });
      this.shownLines += lines;
      this.shownChars += text.length;
    }
    this.pending = [];
    this.pendingChars = this.pendingLines = 0;
    this.log.append(fragment);
    this.trimShown();
    this.showCut();
    this.flooding = this.hiddenChars > this.hiddenAtLastFlush;
    this.hiddenAtLastFlush = this.hiddenChars;
    if (this.flooding && !final) this.log.setAttribute('aria-busy', 'true');
    else this.log.removeAttribute('aria-busy');
    this.lastFlush = performance.now();
    // One layout per frame at most, and none while the reader is reading further up.
    if (this.stuck) this.log.scrollTop = this.log.scrollHeight;
  }

  /** Keeps only the queued text that would stay on screen anyway. */
  private compactPending(): void {
    const { domLines, domChars } = this.limits;
    while (this.pending.length && (this.pendingLines > domLines || this.pendingChars > domChars)) {
      const first = this.pending[0]!;
      const at = cutIndex(first.text, Math.max(0, this.pendingLines - domLines), Math.max(0, this.pendingChars - domChars));
      const gone = first.text.slice(0, at);
      const lines = countLines(gone);
      this.hiddenLines += lines;
      this.hiddenChars += gone.length;
      this.pendingLines -= lines;
      this.pendingChars -= gone.length;
      if (at >= first.text.length) this.pending.shift();
      else first.text = first.text.slice(at);
    }
  }

  /** Removes the oldest lines from the DOM until the tail fits its bounds. */
  private trimShown(): void {
    const { domLines, domChars } = this.limits;
    let remove = 0;
    while (remove < this.shown.length && (this.shownLines > domLines || this.shownChars > domChars)) {
      const first = this.shown[remove]!;
      const at = cutIndex(first.text, Math.max(0, this.shownLines - domLines), Math.max(0, this.shownChars - domChars));
      const gone = at >= first.text.length ? first.text : first.text.slice(0, at);
      const lines = at >= first.text.length ? first.lines : countLines(gone);
      this.hiddenLines += lines;
      this.hiddenChars += gone.length;
      this.shownLines -= lines;
      this.shownChars -= gone.length;
      if (at >= first.text.length) {
        first.node.parentElement?.remove();
        remove += 1;
      } else {
        first.text = first.text.slice(at);
        first.lines -= lines;
        first.node.data = first.text;
      }
    }
    if (remove) this.shown.splice(0, remove);
  }

  private showCut(): void {
    if (!this.cut || !this.cutText || (!this.hiddenLines && !this.hiddenChars)) return;
    this.cut.hidden = false;
    this.cut.dataset.hiddenLines = String(this.hiddenLines);
    this.cutText.textContent = this.hiddenLines
      ? this.strings.hiddenLines.replace('{n}', this.numbers.format(this.hiddenLines))
      : this.strings.hiddenStart;
  }

  /** Saves everything the run printed that the page kept, as a text file. */
  download(): void {
    const parts = this.store.text();
    if (this.store.droppedChars) parts.unshift(`${this.strings.notKept.replace('{n}', String(this.store.droppedLines))}\n`);
    const link = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(new Blob(parts, { type: 'text/plain;charset=utf-8' })),
      download: this.fileName,
    });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }
}
