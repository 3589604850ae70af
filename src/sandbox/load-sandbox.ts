import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { entryFile, isSafeRelativePath, sandboxManifest, type SandboxFiles, type SandboxManifest } from '../protocol/manifest.ts';
import { recordingFile } from './recording.ts';

export interface Sandbox {
  manifest: SandboxManifest;
  files: SandboxFiles;
}

export interface SandboxProblem {
  /** e.g. `sandboxes/gather/sandbox.json` */
  file: string;
  /** e.g. `load.0.path`, `id`, `entry`, or `json` for a parse error */
  field: string;
  message: string;
}

export class SandboxError extends Error {
  readonly problems: SandboxProblem[];
  constructor(problems: SandboxProblem[]) {
    super(problems.map((p) => `${p.file} → ${p.field}: ${p.message}`).join('\n'));
    this.name = 'SandboxError';
    this.problems = problems;
  }
}

/** Files bigger than this are not sandbox sources (the runner's source limit is smaller still). */
const maxFileBytes = 256 * 1024;

export interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
  keys?: string[];
}

/**
 * A rule that may be one object or a list (`"spanMs": {…}` or `[{…}, {…}]`) is a union,
 * and zod reports a bad one as "Invalid input" at the union. Report the branch the author
 * meant instead (the one whose shape matched: no type error at its own level), so the
 * error names the field: `expect.wallVsSpans.of: Invalid option …`.
 */
export function innermost(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return [issue];
  const meant = issue.errors.find((branch) => branch.length && !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
  if (!meant) return [issue];
  return meant.flatMap((i) => innermost({ ...i, path: [...issue.path, ...i.path] }));
}

/** The dotted field a zod issue names (`load.0.path`; unknown keys appended: `expect.oops`), or `whole` for the root. */
export function issueField(i: Issue, whole: string): string {
  return [...i.path.map(String), ...(i.code === 'unrecognized_keys' && i.keys ? [i.keys.join(', ')] : [])].join('.') || whole;
}

/**
 * Reads `sandboxesDir/<id>/`: the manifest (validated) and every other file as text.
 * Throws a SandboxError naming file and field for anything wrong.
 */
export async function loadSandbox(sandboxesDir: string, id: string, projectRoot = process.cwd()): Promise<Sandbox> {
  const dir = path.join(sandboxesDir, id);
  const rel = (p: string) => path.relative(projectRoot, p).split(path.sep).join('/');
  const manifestPath = path.join(dir, 'sandbox.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SandboxError([
      { file: rel(manifestPath), field: missing ? 'file' : 'json', message: missing ? 'missing' : (err as Error).message },
    ]);
  }
  const parsed = sandboxManifest.safeParse(raw);
  if (!parsed.success) {
    throw new SandboxError(
      parsed.error.issues.flatMap(innermost).map((i) => ({ file: rel(manifestPath), field: issueField(i, 'manifest'), message: i.message })),
    );
  }
  const manifest = parsed.data;
  const problems: SandboxProblem[] = [];
  if (manifest.id !== id) problems.push({ file: rel(manifestPath), field: 'id', message: `is "${manifest.id}" but the folder is "${id}"` });

  const files: SandboxFiles = {};
  for (const name of await listFiles(dir)) {
    // challenges/ holds exercises on the sandbox (src/sandbox/load-challenges.ts), not code it runs.
    if (name === 'sandbox.json' || name === recordingFile || name.startsWith('challenges/')) continue;
    if (!isSafeRelativePath(name)) {
      problems.push({ file: rel(path.join(dir, name)), field: 'file name', message: 'use letters, digits, _ . - only' });
      continue;
    }
    const content = await readFile(path.join(dir, name));
    if (content.length > maxFileBytes) {
      problems.push({ file: rel(path.join(dir, name)), field: 'size', message: `is ${content.length} bytes; sandbox files stay under ${maxFileBytes}` });
      continue;
    }
    files[name] = content.toString('utf8');
  }
  if (!Object.hasOwn(files, entryFile(manifest))) {
    problems.push({ file: rel(manifestPath), field: 'entry', message: `names ${entryFile(manifest)}, which is not in the sandbox folder` });
  }
  if (problems.length) throw new SandboxError(problems);
  return { manifest, files };
}

/** Every sandbox id (folder with a sandbox.json), skipping `_harness` and other `_` folders. */
export async function listSandboxIds(sandboxesDir: string): Promise<string[]> {
  const entries = await readdir(sandboxesDir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.')).map((e) => e.name).sort();
}

export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.name === '__pycache__' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, name)));
    else if (entry.isFile()) out.push(name);
  }
  return out.sort();
}
