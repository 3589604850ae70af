/**
 * `npm run check:content [-- --root <dir>]`: checks every lesson and sandbox the way the
 * build does, in a fraction of a second, and prints one `file:line: message` per problem.
 *
 * It runs the build's own checks, not copies of them: the lesson preflight
 * (src/content/validate-lessons.ts: file names, frontmatter schema, order, twins, the
 * same sandboxes in both languages), the MDX component check (the Sätteri plugin in
 * src/content/known-components-plugin.ts: unknown components, imports, <Sandbox id>
 * that names no sandbox) and the sandbox loader (src/sandbox/load-sandbox.ts: manifest
 * schema, id, entry file). It adds the checks CI makes on recordings without running
 * anything: every sandbox has an `expect`, and a committed recorded.json is valid and
 * satisfies it; each challenge (sandboxes/<id>/challenges/*) is valid, and that recording of
 * the shipped code does not already meet its goal. A sandbox with no recording yet is a warning. Finally the vocabulary:
 * content/terminology.yaml (src/content/terminology.ts) lists each language's preferred
 * terms and their forbidden variants, looked for in lesson prose, the sandboxes' titles
 * and the UI strings. Exits 1 on any error.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { mdxToJs } from 'satteri';
import { knownComponentsPlugin, sandboxFolderExists } from '../content/known-components-plugin.ts';
import { lessonComponentNames } from '../content/lesson-components.ts';
import { findKeyLine, locateField } from '../content/locate.ts';
import { describeHit, findVariants, mdxProse, parseTerminology, sourceStrings, type Terminology } from '../content/terminology.ts';
import { validateLessons } from '../content/validate-lessons.ts';
import { locales, type Locale } from '../i18n/locales.ts';
import { listSandboxIds, loadSandbox, SandboxError, type SandboxProblem } from '../sandbox/load-sandbox.ts';
import { challengesDir, loadChallenges } from '../sandbox/load-challenges.ts';
import { recording, recordingFile, type Recording } from '../sandbox/recording.ts';
import { challengeFile } from '../protocol/challenge.ts';
import { checkExpect, explainFailures } from '../timeline/expect.ts';
import { buildModel } from '../timeline/model.ts';

export interface ContentProblem {
  /** Relative to the root, forward slashes: `content/lessons/zh/03-event-loop.mdx`. */
  file: string;
  /** 1-based. */
  line: number;
  column?: number | undefined;
  message: string;
  severity: 'error' | 'warning';
}

export interface ContentReport {
  problems: ContentProblem[];
  lessons: number;
  sandboxes: number;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Checks the lessons and sandboxes under `root` (a folder holding content/ and sandboxes/). */
export async function checkContent(root: string): Promise<ContentReport> {
  const problems: ContentProblem[] = [];
  const lessonsDir = path.join(root, 'content', 'lessons');
  const sandboxesDir = path.join(root, 'sandboxes');

  // 1. The build's preflight: names, frontmatter, order, twins, same sandboxes in both languages.
  for (const p of await validateLessons(lessonsDir, root)) {
    problems.push({ file: p.file, line: p.line ?? 1, message: `${p.field}: ${p.message}`, severity: 'error' });
  }

  // 2. The build's MDX check, on every lesson file (Sätteri parses them in milliseconds).
  const plugin = knownComponentsPlugin({
    allowed: lessonComponentNames,
    root,
    sandboxExists: sandboxFolderExists(root),
    onProblems: (file, found) => {
      for (const p of found) problems.push({ file, line: p.line || 1, column: p.column || undefined, message: p.message, severity: 'error' });
    },
  });
  let lessons = 0;
  for (const locale of locales) {
    const dir = path.join(lessonsDir, locale);
    if (!existsSync(dir)) continue; // reported by the preflight
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.mdx')).sort()) {
      lessons += 1;
      const file = path.join(dir, name);
      const text = await readFile(file, 'utf8');
      // A scaffold (npm run new:lesson) builds, but its TODO placeholders must not reach readers.
      text.split('\n').forEach((line, i) => {
        if (line.includes('TODO')) problems.push({ file: rel(root, file), line: i + 1, message: 'a TODO placeholder is still here: write it before publishing', severity: 'warning' });
      });
      try {
        mdxToJs(text, { fileURL: pathToFileURL(file), mdastPlugins: [plugin] });
      } catch (err) {
        problems.push({ file: rel(root, file), ...mdxErrorPosition(err), message: `MDX does not compile: ${firstLine(err)}`, severity: 'error' });
      }
    }
  }

  // 3. Every sandbox, loaded as the site and the runner load it; then its claim and recording.
  const ids = existsSync(sandboxesDir) ? await listSandboxIds(sandboxesDir) : [];
  for (const id of ids) problems.push(...(await checkSandbox(root, sandboxesDir, id)));

  // 4. One vocabulary per language, wherever a reader sees it.
  problems.push(...(await checkTerminology(root, ids)));

  return { problems, lessons, sandboxes: ids.length };
}

async function checkSandbox(root: string, sandboxesDir: string, id: string): Promise<ContentProblem[]> {
  const manifestPath = path.join(sandboxesDir, id, 'sandbox.json');
  const manifestFile = rel(root, manifestPath);
  const manifestText = await readFile(manifestPath, 'utf8').catch(() => '');
  const lineOf = (field: string) => manifestLine(manifestText, field);
  let sandbox;
  try {
    sandbox = await loadSandbox(sandboxesDir, id, root);
  } catch (err) {
    if (!(err instanceof SandboxError)) throw err;
    return err.problems.map((p: SandboxProblem) => ({
      file: p.file,
      line: p.file === manifestFile ? (p.field === 'json' ? jsonErrorLine(p.message) : lineOf(p.field)) : 1,
      message: `${p.field}: ${p.message}`,
      severity: 'error' as const,
    }));
  }
  const { manifest } = sandbox;
  if (!manifest.expect || Object.keys(manifest.expect).length === 0) {
    return [{ file: manifestFile, line: 1, message: 'expect: missing: state the timing claim the lesson makes (README: the expect vocabulary)', severity: 'error' }];
  }
  const recordingPath = path.join(sandboxesDir, id, recordingFile);
  const recordingShown = rel(root, recordingPath);
  if (!existsSync(recordingPath)) {
    return [{ file: manifestFile, line: 1, message: `no ${recordingFile} yet: run \`npm run record -- ${id}\` and commit it`, severity: 'warning' }];
  }
  const recordingText = await readFile(recordingPath, 'utf8');
  let recorded;
  try {
    recorded = recording.parse(JSON.parse(recordingText));
  } catch (err) {
    const line = err instanceof SyntaxError ? jsonErrorLine(err.message) : 1;
    return [{ file: recordingShown, line, message: `not a valid recording (run \`npm run record -- ${id}\` again): ${firstLine(err)}`, severity: 'error' }];
  }
  const failures = explainFailures(checkExpect(manifest.expect, buildModel(recorded.trace), { exitCode: recorded.exit.code, stdout: recorded.stdout }));
  if (failures) {
    return [{ file: manifestFile, line: lineOf('expect'), message: `expect: the recording of ${recorded.recordedAt.slice(0, 10)} does not hold the claim: ${failures}`, severity: 'error' }];
  }
  return checkChallenges(root, sandboxesDir, id, sandbox.files, recorded);
}

/**
 * A sandbox's challenges, loaded as the site loads them; then the cheap half of the two-way
 * check (tests/runner/challenges.test.ts runs both halves): the committed recording of the
 * shipped code must NOT meet a challenge's goal, or there is nothing for the reader to do.
 */
async function checkChallenges(root: string, sandboxesDir: string, id: string, files: Record<string, string>, recorded: Recording): Promise<ContentProblem[]> {
  let loaded;
  try {
    loaded = await loadChallenges(sandboxesDir, id, root, files);
  } catch (err) {
    if (!(err instanceof SandboxError)) throw err;
    const problems: ContentProblem[] = [];
    for (const p of err.problems) {
      const text = p.file.endsWith(challengeFile) ? await readFile(path.join(root, p.file), 'utf8').catch(() => '') : '';
      const line = !text ? 1 : p.field === 'json' ? jsonErrorLine(p.message) : manifestLine(text, p.field);
      problems.push({ file: p.file, line, message: `${p.field}: ${p.message}`, severity: 'error' });
    }
    return problems;
  }
  const model = buildModel(recorded.trace);
  const problems: ContentProblem[] = [];
  for (const { challenge, solution } of loaded) {
    const file = `${rel(root, path.join(sandboxesDir, id, challengesDir, challenge.id, challengeFile))}`;
    // A scaffold (npm run new:challenge) loads, but its TODO placeholders must not reach readers.
    const texts: [string, string][] = [[file, await readFile(path.join(root, file), 'utf8')], ...Object.entries(solution).map(([name, text]): [string, string] => [`${path.posix.dirname(file)}/solution/${name}`, text])];
    for (const [shown, text] of texts) {
      text.split('\n').forEach((line, i) => {
        if (line.includes('TODO')) problems.push({ file: shown, line: i + 1, message: 'a TODO placeholder is still here: write it before publishing', severity: 'warning' });
      });
    }
    const results = checkExpect(challenge.goal, model, { exitCode: recorded.exit.code, stdout: recorded.stdout });
    if (results.every((r) => r.ok)) {
      const text = await readFile(path.join(root, file), 'utf8');
      problems.push({ file, line: manifestLine(text, 'goal'), message: `goal: the recording of the shipped code already meets it, so the reader has nothing to change: ${results.map((r) => r.message).join('; ')}`, severity: 'error' });
    }
  }
  return problems;
}

/** The glossary of preferred terms; its own place in the repository, relative to the root. */
export const terminologyFile = 'content/terminology.yaml';

/** Sources outside the lessons whose strings readers see: the UI and the glossary page. */
const uiSources = ['src/i18n/ui.ts', 'src/content/glossary.ts'];

async function checkTerminology(root: string, sandboxIds: readonly string[]): Promise<ContentProblem[]> {
  const glossaryPath = path.join(root, terminologyFile);
  if (!existsSync(glossaryPath)) return [];
  const parsed = parseTerminology(await readFile(glossaryPath, 'utf8'));
  if (!parsed.ok) {
    return parsed.problems.map((p) => ({ file: terminologyFile, line: p.line, message: `${p.field}: ${p.message}`, severity: 'error' as const }));
  }
  const problems: ContentProblem[] = [];
  const scan = async (file: string, locale: Locale, terminology: Terminology, mask: (text: string) => string) => {
    const text = await readFile(path.join(root, file), 'utf8').catch(() => undefined);
    if (text === undefined) return;
    for (const hit of findVariants(mask(text), text, terminology[locale])) {
      problems.push({ file, line: hit.line, column: hit.column, message: describeHit(hit), severity: 'error' });
    }
  };
  for (const locale of locales) {
    if (parsed.terminology[locale].length === 0) continue;
    const dir = path.join(root, 'content', 'lessons', locale);
    const lessonFiles = existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith('.mdx')).sort() : [];
    for (const name of lessonFiles) await scan(`content/lessons/${locale}/${name}`, locale, parsed.terminology, mdxProse);
    const jsonValues = (text: string) => sourceStrings(text, locale, { keys: false });
    for (const id of sandboxIds) {
      await scan(`sandboxes/${id}/sandbox.json`, locale, parsed.terminology, jsonValues);
      const dir = path.join(root, 'sandboxes', id, challengesDir);
      const challengeIds = existsSync(dir) ? (await readdir(dir)).sort() : [];
      for (const c of challengeIds) await scan(`sandboxes/${id}/${challengesDir}/${c}/${challengeFile}`, locale, parsed.terminology, jsonValues);
    }
    const tsStrings = (text: string) => sourceStrings(text, locale);
    for (const file of uiSources) await scan(file, locale, parsed.terminology, tsStrings);
  }
  return problems;
}

/** Line of a loader field (`load.0.path`, `entry`, or `a, b` for unknown keys) in the manifest's text. */
function manifestLine(text: string, field: string): number {
  if (!text) return 1;
  const first = field.split(', ')[0]!;
  const located = locateField(text, first.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)));
  if (located.exact) return located.line;
  return findKeyLine(text, first.split('.').pop()!) ?? located.line;
}

/** JSON.parse's message ends with `(line 3 column 5)` on current Node. */
function jsonErrorLine(message: string): number {
  const match = /\(line (\d+) column \d+\)/.exec(message);
  return match ? Number(match[1]) : 1;
}

function mdxErrorPosition(err: unknown): { line: number; column?: number | undefined } {
  const e = err as { line?: unknown; column?: unknown; position?: { start?: { line?: number; column?: number } }; message?: string };
  if (typeof e.line === 'number') return { line: e.line, column: typeof e.column === 'number' ? e.column : undefined };
  if (e.position?.start?.line) return { line: e.position.start.line, column: e.position.start.column };
  const match = /(\d+):(\d+)/.exec(String(e.message ?? ''));
  return match ? { line: Number(match[1]), column: Number(match[2]) } : { line: 1 };
}

const firstLine = (err: unknown) => String(err instanceof Error ? err.message : err).split('\n')[0]!;
const rel = (root: string, p: string) => path.relative(root, p).split(path.sep).join('/');

export function formatProblem(p: ContentProblem): string {
  return `${p.file}:${p.line}${p.column ? `:${p.column}` : ''}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { root: { type: 'string' } } });
  const root = path.resolve(values.root ?? projectRoot);
  const started = performance.now();
  const { problems, lessons, sandboxes } = await checkContent(root);
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.length - errors.length;
  for (const p of [...errors, ...problems.filter((p) => p.severity === 'warning')]) (p.severity === 'error' ? console.error : console.log)(formatProblem(p));
  const ms = Math.round(performance.now() - started);
  const counts = `${errors.length} error(s)${warnings ? `, ${warnings} warning(s)` : ''}`;
  const line = `check:content: ${lessons} lesson file(s) and ${sandboxes} sandbox(es) in ${ms} ms: ${counts}`;
  if (errors.length) {
    console.error(line);
    process.exit(1);
  }
  console.log(line);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
