/**
 * The course's vocabulary: `content/terminology.yaml` lists, per language, the term a
 * lesson uses for a concept and the variants it must not use (限流器 for AnyIO's
 * capacity limiter, 楼梯 for the staircase a timeline draws). `npm run check:content`
 * reports every variant it finds in prose as file:line:column, naming the preferred term.
 *
 * Only prose is read: fenced code, inline code and MDX comments are blanked out first,
 * so `inspect.isawaitable` or a Python comment is never flagged. A variant inside one of
 * the entry's `allow` strings (a longer, legitimate word) or inside any preferred term is
 * not flagged either, and a line carrying `term-ok: <variant>` (in MDX, `{/* term-ok: 限流器 *\/}`;
 * in TypeScript, a `// term-ok: …` comment) may use that variant once it means something else.
 */
import { z } from 'astro/zod';
import { parseDocument } from 'yaml';
import { locales, type Locale } from '../i18n/locales.ts';
import { locateField } from './locate.ts';

const phrase = z.string().trim().min(1, 'must not be empty').max(60, 'at most 60 characters: a term, not a sentence');

const termEntry = z
  .object({
    /** What lessons write. */
    term: phrase,
    /** The English term it renders, so a translator finds the entry from the English twin. */
    en: phrase,
    /** What lessons must not write instead; may be empty for an entry kept only as a record. */
    variants: z.array(phrase).default([]),
    /** Longer words that contain a variant and are right as they are. */
    allow: z.array(phrase).default([]),
    /** Why: shown with every report, so the author learns the rule, not just the fix. */
    note: z.string().trim().min(1).max(300).optional(),
  })
  .strict()
  .superRefine((entry, ctx) => {
    entry.variants.forEach((variant, i) => {
      if (variant === entry.term) ctx.addIssue({ code: 'custom', path: ['variants', i], message: `"${variant}" is the preferred term itself` });
    });
    entry.allow.forEach((word, i) => {
      if (!entry.variants.some((v) => word.includes(v))) ctx.addIssue({ code: 'custom', path: ['allow', i], message: `"${word}" contains none of the variants, so allowing it does nothing` });
    });
  });

export const terminologySchema = z
  .object(Object.fromEntries(locales.map((l) => [l, z.array(termEntry).default([])])) as Record<Locale, z.ZodDefault<z.ZodArray<typeof termEntry>>>)
  .strict();

export type TermEntry = z.infer<typeof termEntry>;
export type Terminology = Record<Locale, TermEntry[]>;

/** One problem with the glossary file itself: `field` is a dotted path (`zh.3.variants.0`). */
export interface TerminologyFileProblem {
  line: number;
  field: string;
  message: string;
}

export type TerminologyParse = { ok: true; terminology: Terminology } | { ok: false; problems: TerminologyFileProblem[] };

/** Parses and validates the glossary text; every problem is named by field and line. */
export function parseTerminology(text: string): TerminologyParse {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    return { ok: false, problems: doc.errors.map((e) => ({ line: e.linePos?.[0]?.line ?? 1, field: 'yaml', message: e.message.split('\n')[0]! })) };
  }
  const result = terminologySchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((issue) => {
        const keys = issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys ?? [] : [];
        const fieldPath = keys.length ? [...issue.path, keys[0]!] : issue.path;
        return { line: locateField(text, fieldPath).line, field: fieldPath.join('.') || '(root)', message: issue.message };
      }),
    };
  }
  const terminology = result.data as Terminology;
  // One variant in two entries would give two contradicting answers for the same word.
  const problems: TerminologyFileProblem[] = [];
  for (const locale of locales) {
    const seen = new Map<string, string>();
    terminology[locale].forEach((entry, i) => {
      entry.variants.forEach((variant, j) => {
        const other = seen.get(variant);
        if (other) problems.push({ line: locateField(text, [locale, i, 'variants', j]).line, field: `${locale}.${i}.variants.${j}`, message: `"${variant}" is already a variant of "${other}"` });
        else seen.set(variant, entry.term);
      });
    });
  }
  return problems.length ? { ok: false, problems } : { ok: true, terminology };
}

/** A forbidden variant found in a text: 1-based line and column (in UTF-16 units, as editors count BMP text). */
export interface TermHit {
  line: number;
  column: number;
  variant: string;
  entry: TermEntry;
}

/**
 * Blanks out what is not prose in an MDX lesson: fenced code blocks, inline code and
 * `{/* … *\/}` comments. Every masked character becomes a space (newlines stay), so
 * positions in the result are positions in the file.
 */
export function mdxProse(text: string): string {
  const out = text.split('');
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = ' ';
  };
  // Fenced blocks first (``` or ~~~, three or more, closed by a fence at least as long; an unclosed one runs to the end).
  const fence = /^[ \t]{0,3}(`{3,}|~{3,})[^\n]*$/gm;
  let open: { start: number; marker: string } | undefined;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const marker = m[1]!;
    if (!open) open = { start: m.index, marker };
    else if (marker[0] === open.marker[0] && marker.length >= open.marker.length && m[0].trim() === marker) {
      blank(open.start, m.index + m[0].length);
      open = undefined;
    }
  }
  if (open) blank(open.start, text.length);
  const fenced = out.join('');
  // Then, outside the blanked blocks: inline code spans (a run of backticks closed by the same
  // run), MDX comments, link targets and <Sandbox> tags (ids and paths are names, not prose).
  for (const re of [/(`+)(?!`)(?:(?!\n[ \t]*\n)[\s\S])*?(?<!`)\1(?!`)/g, /\{\/\*[\s\S]*?\*\/\}/g, /\]\([^)\n]*\)/g, /<Sandbox\b[^>]*>/g]) {
    for (const m of fenced.matchAll(re)) blank(m.index, m.index + m[0].length);
  }
  return out.join('');
}

/**
 * The text of a TypeScript or JSON source that a reader may see in `locale`: its string
 * literals (quotes excluded) holding at least one CJK character for zh, or none for en;
 * everything else is blanked. Comments are skipped, so a `// term-ok: …` is never a hit.
 * With `keys: false` (JSON), a string followed by `:` is a key, not text, and is skipped.
 */
export function sourceStrings(text: string, locale: Locale, { keys = true }: { keys?: boolean } = {}): string {
  const out = text.replace(/[^\n]/g, ' ').split('');
  const cjk = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      i = text.indexOf('\n', i);
      if (i < 0) break;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c && !(c !== '`' && text[j] === '\n')) j += text[j] === '\\' ? 2 : 1;
      const body = text.slice(i + 1, j);
      const isKey = !keys && /^\s*:/.test(text.slice(j + 1, j + 40));
      if (!isKey && cjk.test(body) === (locale === 'zh')) for (let k = i + 1; k < j && k < text.length; k++) out[k] = text[k]!;
      i = j + 1;
    } else i += 1;
  }
  return out.join('');
}

const latinWord = /^[A-Za-z0-9_]+$/;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Finds every forbidden variant in `prose` (already masked by mdxProse or sourceStrings);
 * `raw` is the unmasked text, read only for `term-ok:` escapes. A Latin variant
 * (`harness`) must stand as a whole word; a CJK one cannot be segmented, so longer words
 * that contain it are listed in the entry's `allow`.
 */
export function findVariants(prose: string, raw: string, entries: readonly TermEntry[]): TermHit[] {
  const lineStarts = [0];
  for (let i = 0; i < prose.length; i++) if (prose[i] === '\n') lineStarts.push(i + 1);
  const rawLines = raw.split('\n');
  const allPreferred = entries.map((e) => e.term);
  const hits: TermHit[] = [];
  for (const entry of entries) {
    const shields = [...entry.allow, ...allPreferred];
    for (const variant of entry.variants) {
      const re = latinWord.test(variant) ? new RegExp(`(?<![A-Za-z0-9_])${escapeRe(variant)}(?![A-Za-z0-9_])`, 'gi') : new RegExp(escapeRe(variant), 'g');
      for (const m of prose.matchAll(re)) {
        const at = m.index;
        if (shields.some((word) => covers(prose, word, variant, at))) continue;
        let line = lineStarts.length - 1;
        while (lineStarts[line]! > at) line -= 1;
        if (escaped(rawLines[line] ?? '', variant)) continue;
        hits.push({ line: line + 1, column: at - lineStarts[line]! + 1, variant, entry });
      }
    }
  }
  return hits.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Whether an occurrence of `word` in `text` spans the variant found at `at`. */
function covers(text: string, word: string, variant: string, at: number): boolean {
  for (let offset = word.indexOf(variant); offset >= 0; offset = word.indexOf(variant, offset + 1)) {
    const start = at - offset;
    if (start >= 0 && text.startsWith(word, start)) return true;
  }
  return false;
}

/** `term-ok: 限流器` or `term-ok: 限流器, 限额` on the line lets those variants stand there. */
function escaped(line: string, variant: string): boolean {
  for (const m of line.matchAll(/term-ok:\s*([^*\n}]+)/g)) {
    if (m[1]!.split(/[,，、]/).some((v) => v.trim() === variant)) return true;
  }
  return false;
}

/** The one-line report for a hit: the preferred term first, then why. */
export function describeHit(hit: TermHit): string {
  const why = hit.entry.note ? `: ${hit.entry.note}` : '';
  return `terminology: write "${hit.entry.term}" (${hit.entry.en}), not "${hit.variant}"${why}`;
}
