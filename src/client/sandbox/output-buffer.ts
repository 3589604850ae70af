/**
 * The console's bookkeeping, free of the DOM so it can be unit-tested: counting lines,
 * cutting the start off a piece of text, and the bounded copy of a run's whole output that
 * "Download the full output" saves. Every engine caps a run's output at 1 MiB, but the page
 * does not rely on that: it keeps at most `keepChars` and says so in the download.
 */

/** How many '\n' a text holds (a last line without one is not counted). */
export function countLines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) n += 1;
  return n;
}

/** How far past the characters asked for a cut may reach to end at a newline. */
const lineEndReach = 1024;

/**
 * Where to cut `text` so that at least `lines` newlines and `chars` characters are gone.
 * A cut by characters that lands inside a line moves on to that line's end, so the first
 * line kept is whole (no "23" left of "1023"), unless that end is further than
 * `lineEndReach`: then the long line is cut where the count says, and nothing after it
 * is lost. Returns an index into `text` (its length when everything must go).
 */
export function cutIndex(text: string, lines: number, chars: number): number {
  let cut = 0;
  if (lines > 0) {
    let at = -1;
    for (let i = 0; i < lines; i += 1) {
      at = text.indexOf('\n', at + 1);
      if (at === -1) return text.length;
    }
    cut = at + 1;
  }
  if (chars > cut) {
    if (chars >= text.length) return text.length;
    const newline = text.indexOf('\n', chars - 1);
    cut = newline !== -1 && newline + 1 - chars <= lineEndReach ? newline + 1 : chars;
  }
  return Math.min(cut, text.length);
}

/** Pieces are merged up to this size, so a flood of tiny chunks is a few strings, not millions. */
const pieceChars = 64 * 1024;

/** The whole output of one run, for the download: bounded, oldest text dropped first. */
export class OutputStore {
  private readonly keepChars: number;
  private pieces: string[] = [];
  private head = 0;
  private chars = 0;
  /** Newlines (and characters) dropped from the start to stay under `keepChars`. */
  droppedLines = 0;
  droppedChars = 0;
  /** Every line the run printed, kept or not. */
  totalLines = 0;

  constructor(keepChars: number) {
    this.keepChars = keepChars;
  }

  add(text: string): void {
    if (!text) return;
    this.totalLines += countLines(text);
    const last = this.pieces.length - 1;
    if (last >= this.head && this.pieces[last]!.length + text.length <= pieceChars) this.pieces[last] += text;
    else this.pieces.push(text);
    this.chars += text.length;
    while (this.chars > this.keepChars && this.head < this.pieces.length) {
      const first = this.pieces[this.head]!;
      const over = this.chars - this.keepChars;
      if (over >= first.length) {
        this.drop(first);
        this.pieces[this.head] = '';
        this.head += 1;
      } else {
        const cut = cutIndex(first, 0, over);
        this.drop(first.slice(0, cut));
        this.pieces[this.head] = first.slice(cut);
      }
    }
    // Let the array forget dropped pieces now and then, not on every call.
    if (this.head > 1024) {
      this.pieces = this.pieces.slice(this.head);
      this.head = 0;
    }
  }

  private drop(text: string): void {
    this.droppedLines += countLines(text);
    this.droppedChars += text.length;
    this.chars -= text.length;
  }

  /** What is kept, oldest first. */
  text(): string[] {
    return this.pieces.slice(this.head);
  }

  get keptChars(): number {
    return this.chars;
  }
}
