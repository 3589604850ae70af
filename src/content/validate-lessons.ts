import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { locales, type Locale } from '../i18n/locales.ts';
import { lessonFrontmatter, parseLessonFileName } from './lesson-schema.ts';
import { locateField } from './locate.ts';

/** One thing wrong with one lesson file, precise enough to fix without searching. */
export interface LessonProblem {
  /** Path relative to the project root, e.g. `content/lessons/zh/03-event-loop.mdx`. */
  file: string;
  /** Frontmatter field (`order`, `objectives.1`), or a pseudo-field: `file name`, `frontmatter`, `twin`. */
  field: string;
  message: string;
  /** 1-based line in `file` the problem is about (the field's line; 1 for file-level problems). */
  line?: number;
}

export class LessonValidationError extends Error {
  readonly problems: LessonProblem[];
  constructor(problems: LessonProblem[]) {
    super(formatProblems(problems));
    this.name = 'LessonValidationError';
    this.problems = problems;
  }
}

export function formatProblems(problems: LessonProblem[]): string {
  const lines = problems.map((p) => `  ${p.file} → ${p.field}: ${p.message}`);
  return `${problems.length} problem(s) in lessons:\n${lines.join('\n')}`;
}

const frontmatterBlock = /^---\r?\n([\s\S]*?)\r?\n---(?:\r?\n|$)/;

interface ScannedLesson {
  locale: Locale;
  file: string;
  slug: string;
  order: number;
  /** Line of the `order` field (1 when the frontmatter could not be read). */
  orderLine: number;
  /** Ids of the <Sandbox id="…"> a lesson embeds, sorted. */
  sandboxes: string[];
}

const sandboxTag = /<Sandbox\b[^>]*?\bid=["']([^"']+)["']/g;

/**
 * Checks every lesson under `lessonsDir` (which holds one folder per locale):
 * file naming, frontmatter against the schema, `order` matching the file name,
 * unique order per language, and that each lesson has a twin in every other language.
 * Returns all problems at once so an author fixes them in one pass.
 */
export async function validateLessons(lessonsDir: string, projectRoot: string): Promise<LessonProblem[]> {
  const problems: LessonProblem[] = [];
  const scanned: ScannedLesson[] = [];
  const rel = (p: string) => path.relative(projectRoot, p).split(path.sep).join('/');

  for (const locale of locales) {
    const dir = path.join(lessonsDir, locale);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
    } catch {
      problems.push({ file: rel(dir), field: 'folder', message: `missing: every language needs a lessons folder` });
      continue;
    }
    for (const name of names) {
      const file = rel(path.join(dir, name));
      const parsedName = parseLessonFileName(name);
      if (!parsedName) {
        problems.push({
          file,
          field: 'file name',
          message: 'must look like NN-slug.mdx (two digits, a dash, lowercase words joined by dashes)',
          line: 1,
        });
        continue;
      }
      // Twins and order are judged by file name, so a lesson with broken frontmatter
      // still counts as present (its twin should not also be reported).
      const source = await readFile(path.join(dir, name), 'utf8');
      const sandboxes = [...new Set([...source.matchAll(sandboxTag)].map((m) => m[1]!))].sort();
      const fm = readFrontmatter(source);
      // The YAML block starts on the file's second line, after the opening ---.
      const lineOf = (fieldPath: readonly PropertyKey[]) => ('yaml' in fm ? 1 + locateField(fm.yaml, fieldPath).line : 1);
      scanned.push({ locale, file, slug: parsedName.slug, order: parsedName.order, orderLine: lineOf(['order']), sandboxes });
      if ('error' in fm) {
        problems.push({ file, field: 'frontmatter', message: fm.error, line: fm.line });
        continue;
      }
      const result = lessonFrontmatter.safeParse(fm.data);
      if (!result.success) {
        for (const issue of result.error.issues) {
          problems.push({ file, field: fieldName(issue), message: issue.message, line: lineOf(issuePath(issue)) });
        }
        continue;
      }
      if (result.data.order !== parsedName.order) {
        problems.push({
          file,
          field: 'order',
          message: `is ${result.data.order} but the file name starts with ${String(parsedName.order).padStart(2, '0')}`,
          line: lineOf(['order']),
        });
      }
    }
  }

  problems.push(...checkOrderUnique(scanned), ...checkTwins(scanned));
  return problems;
}

function readFrontmatter(source: string): { data: unknown; yaml: string } | { error: string; line: number } {
  const match = frontmatterBlock.exec(source);
  if (!match) return { error: 'missing: the file must start with a --- YAML block ---', line: 1 };
  try {
    return { data: parseYaml(match[1]!) ?? {}, yaml: match[1]! };
  } catch (err) {
    const line = err instanceof YAMLParseError && err.linePos ? err.linePos[0].line + 1 : 1;
    const where = line > 1 ? ` (line ${line})` : '';
    return { error: `is not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`, line };
  }
}

/** The path of the field an issue is about; for unknown keys, the first unknown key. */
function issuePath(issue: { path: PropertyKey[]; code: string; keys?: string[] }): PropertyKey[] {
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) return [...issue.path, issue.keys[0]!];
  return issue.path;
}

function fieldName(issue: { path: PropertyKey[]; code: string; keys?: string[] }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) return issue.keys.join(', ');
  return issue.path.length ? issue.path.map(String).join('.') : 'frontmatter';
}

function checkOrderUnique(lessons: ScannedLesson[]): LessonProblem[] {
  const problems: LessonProblem[] = [];
  const seen = new Map<string, ScannedLesson>();
  for (const lesson of lessons) {
    const key = `${lesson.locale}:${lesson.order}`;
    const earlier = seen.get(key);
    if (earlier) {
      problems.push({ file: lesson.file, field: 'order', message: `${lesson.order} is already used by ${earlier.file}`, line: lesson.orderLine });
    } else seen.set(key, lesson);
  }
  return problems;
}

function checkTwins(lessons: ScannedLesson[]): LessonProblem[] {
  const problems: LessonProblem[] = [];
  const key = (l: ScannedLesson) => `${String(l.order).padStart(2, '0')}-${l.slug}.mdx`;
  for (const lesson of lessons) {
    for (const other of locales) {
      if (other === lesson.locale) continue;
      const twin = lessons.find((l) => l.locale === other && key(l) === key(lesson));
      if (!twin) {
        problems.push({
          file: lesson.file,
          field: 'twin',
          message: `has no ${other} twin: add content/lessons/${other}/${key(lesson)} (same order and slug)`,
          line: 1,
        });
        continue;
      }
      const missing = lesson.sandboxes.filter((id) => !twin.sandboxes.includes(id));
      if (missing.length) {
        problems.push({
          file: twin.file,
          field: 'sandboxes',
          message: `lacks <Sandbox id="${missing.join('">, <Sandbox id="')}"> that its ${lesson.locale} twin embeds: both languages run the same sandboxes`,
          line: 1,
        });
      }
    }
  }
  return problems;
}
