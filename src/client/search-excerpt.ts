/**
 * Search snippets that start where a sentence starts.
 *
 * Pagefind picks a snippet as a window of N words (Chinese: N segments) with the most matches,
 * and of several equally good windows it takes the middle one. When the match is near the start
 * of a section, every window from the section's first word up to the match is equally good, so
 * the snippet starts a few words in: "or def: the event loop…" for "async def or def: the event
 * loop…", and in Chinese, where a segment is often one character, "的 bug：阻塞事件循环" for
 * "让所有人卡住的 bug：…", which reads as if the first characters were dropped.
 *
 * `cleanExcerpt` moves the start back to the beginning of its sentence when that is near, or
 * forward to the next sentence when no match is lost, or else marks the cut with "…"; it marks a
 * cut at the end the same way. It also escapes the text: Pagefind's excerpts are raw text with
 * `<mark>` added, so `<locals>` in a lesson would otherwise be parsed as an element.
 */

export interface ExcerptPiece {
  text: string;
  marked: boolean;
}

/** At most this much (Latin words + CJK characters) is added in front to reach a sentence's start. */
const maxLeadWeight = 12;
/** At most this much is dropped from the front to start at the next sentence instead. */
const maxSkipWeight = 12;
const ellipsis = '…';

const cjk = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/;
/** Sentence ends: CJK marks end one by themselves; Latin ones only before a space ("asyncio.sleep"). */
const cjkStop = /[。！？；]/;
const latinStop = /[.!?;]/;

/** `<mark>`-delimited pieces of a Pagefind excerpt, with its text unescaped as Pagefind gives it. */
export function parseExcerpt(html: string): ExcerptPiece[] {
  const pieces: ExcerptPiece[] = [];
  let marked = false;
  for (const part of html.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part) pieces.push({ text: part, marked });
  }
  return pieces;
}

/** Whether a sentence starts at `i` of `text` (ignoring spaces just before it). */
export function startsSentence(text: string, i: number): boolean {
  let j = i;
  while (j > 0 && /\s/.test(text[j - 1]!)) j--;
  if (j === 0) return true;
  const before = text[j - 1]!;
  return cjkStop.test(before) || (latinStop.test(before) && j < i);
}

/** How long a stretch of text reads: Latin words plus CJK characters. */
function weight(text: string): number {
  const cjkChars = [...text].filter((c) => cjk.test(c)).length;
  const words = text.replace(new RegExp(cjk.source, 'g'), ' ').split(/\s+/).filter((w) => /\w/.test(w)).length;
  return cjkChars + words;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function render(pieces: readonly ExcerptPiece[]): string {
  return pieces.map((p) => (p.marked ? `<mark>${escapeHtml(p.text)}</mark>` : escapeHtml(p.text))).join('');
}

/** `pieces` without their first `n` characters. */
function dropFront(pieces: readonly ExcerptPiece[], n: number): ExcerptPiece[] {
  const out: ExcerptPiece[] = [];
  let left = n;
  for (const p of pieces) {
    if (left >= p.text.length) {
      left -= p.text.length;
      continue;
    }
    out.push({ text: p.text.slice(left), marked: p.marked });
    left = 0;
  }
  return out;
}

/** How far back to look for a sentence's start; farther than this is too far to add anyway. */
const lookBack = 300;

/** Where the sentence holding `at` starts in `text`, or -1 when that is more than `lookBack` back. */
function sentenceStartBefore(text: string, at: number): number {
  for (let i = at; i >= Math.max(0, at - lookBack); i--) if (startsSentence(text, i) && !/\s/.test(text[i] ?? '')) return i;
  return -1;
}

/** The first sentence start inside `plain` after its beginning, or -1. */
function nextSentenceStart(plain: string): number {
  for (let i = 1; i < plain.length; i++) if (!/\s/.test(plain[i]!) && startsSentence(plain, i)) return i;
  return -1;
}

/**
 * The excerpt as safe HTML that starts at a sentence (or says with "…" that it does not).
 * `content` is the page's text as Pagefind indexed it (`data.content`); an excerpt not found in
 * it is only escaped.
 */
export function cleanExcerpt(excerpt: string, content: string): string {
  let pieces = parseExcerpt(excerpt);
  const plain = pieces.map((p) => p.text).join('');
  const at = plain ? content.indexOf(plain) : -1;
  if (at < 0) return render(pieces);

  let lead = '';
  if (!startsSentence(content, at)) {
    const back = sentenceStartBefore(content, at);
    const firstMark = pieces.findIndex((p) => p.marked);
    const markAt = firstMark < 0 ? plain.length : pieces.slice(0, firstMark).reduce((n, p) => n + p.text.length, 0);
    const next = nextSentenceStart(plain);
    if (back >= 0 && weight(content.slice(back, at)) <= maxLeadWeight) {
      lead = escapeHtml(content.slice(back, at));
    } else if (next > 0 && next <= markAt && weight(plain.slice(0, next)) <= maxSkipWeight) {
      pieces = dropFront(pieces, next);
    } else {
      lead = cjk.test(plain[0] ?? '') ? ellipsis : `${ellipsis} `;
    }
  }
  const end = at + plain.length;
  const trimmedEnd = plain.trimEnd();
  const endsSentence = end >= content.trimEnd().length || cjkStop.test(trimmedEnd.at(-1) ?? '') || latinStop.test(trimmedEnd.at(-1) ?? '');
  const tail = endsSentence ? '' : cjk.test(trimmedEnd.at(-1) ?? '') ? ellipsis : ` ${ellipsis}`;
  return `${lead}${render(pieces).trimEnd()}${tail}`;
}
