/**
 * Reads a sandbox's challenges: `sandboxes/<id>/challenges/<challenge-id>/challenge.json`
 * (validated by src/protocol/challenge.ts) and the files of its `solution/` folder, each of
 * which replaces the sandbox's file of the same path. Every problem names the file and the
 * field, like the manifest's (src/sandbox/load-sandbox.ts), and all are reported at once.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { challengeFile, sandboxChallenge, solutionDir, type SandboxChallenge } from '../protocol/challenge.ts';
import { isSafeRelativePath, sandboxIdPattern, type SandboxFiles } from '../protocol/manifest.ts';
import { innermost, issueField, listFiles, loadSandbox, SandboxError, type SandboxProblem } from './load-sandbox.ts';

export const challengesDir = 'challenges';

export interface LoadedChallenge {
  challenge: SandboxChallenge;
  /** Only the files the solution changes, by the sandbox path they replace. */
  solution: SandboxFiles;
}

/** The sandbox's files with the solution's in their place: what the solved sandbox runs. */
export function solvedFiles(files: SandboxFiles, solution: SandboxFiles): SandboxFiles {
  return { ...files, ...solution };
}

/**
 * Every challenge of `sandboxesDir/<sandboxId>/`, sorted by id; none when it has no
 * `challenges/` folder. `files` are the sandbox's own (loaded when not given): a solution
 * may only replace one of them, and must change it. Throws a SandboxError listing every problem.
 */
export async function loadChallenges(
  sandboxesDir: string,
  sandboxId: string,
  projectRoot = process.cwd(),
  files?: SandboxFiles,
): Promise<LoadedChallenge[]> {
  const dir = path.join(sandboxesDir, sandboxId, challengesDir);
  if (!existsSync(dir)) return [];
  const shipped = files ?? (await loadSandbox(sandboxesDir, sandboxId, projectRoot)).files;
  const rel = (p: string) => path.relative(projectRoot, p).split(path.sep).join('/');
  const problems: SandboxProblem[] = [];
  const loaded: LoadedChallenge[] = [];

  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const folder = path.join(dir, entry.name);
    if (!entry.isDirectory()) {
      problems.push({ file: rel(folder), field: 'file', message: `only challenge folders belong in ${challengesDir}/ (each with a ${challengeFile})` });
      continue;
    }
    const file = path.join(folder, challengeFile);
    const before = problems.length;
    if (!sandboxIdPattern.test(entry.name)) {
      problems.push({ file: rel(folder), field: 'folder name', message: 'lowercase words joined by dashes (it is the challenge id)' });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      problems.push({ file: rel(file), field: missing ? 'file' : 'json', message: missing ? 'missing' : (err as Error).message });
      continue;
    }
    const parsed = sandboxChallenge.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues.flatMap(innermost)) problems.push({ file: rel(file), field: issueField(i, 'challenge'), message: i.message });
    } else if (parsed.data.id !== entry.name) {
      problems.push({ file: rel(file), field: 'id', message: `is "${parsed.data.id}" but the folder is "${entry.name}"` });
    }

    const solution: SandboxFiles = {};
    const solutionPath = path.join(folder, solutionDir);
    const names = existsSync(solutionPath) ? await listFiles(solutionPath) : [];
    if (names.length === 0) {
      problems.push({ file: rel(solutionPath), field: 'solution', message: `missing: put the files that solve it in ${solutionDir}/, at the sandbox's paths` });
    }
    for (const name of names) {
      const shown = rel(path.join(solutionPath, name));
      if (!isSafeRelativePath(name)) {
        problems.push({ file: shown, field: 'solution', message: 'use letters, digits, _ . - only' });
      } else if (!Object.hasOwn(shipped, name)) {
        problems.push({ file: shown, field: 'solution', message: `${name} is not one of the sandbox's files (${Object.keys(shipped).join(', ')})` });
      } else {
        const text = await readFile(path.join(solutionPath, name), 'utf8');
        if (text === shipped[name]) problems.push({ file: shown, field: 'solution', message: `is the same as the sandbox's ${name}: a solution changes the code` });
        else solution[name] = text;
      }
    }
    if (parsed.success && problems.length === before) loaded.push({ challenge: parsed.data, solution });
  }
  if (problems.length) throw new SandboxError(problems);
  return loaded;
}
