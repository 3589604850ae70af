/**
 * `npm run new:challenge -- <sandbox-id> <challenge-id> [--root <dir>]`: scaffolds a challenge
 * on an existing sandbox, valid from the start (content/AUTHORING.md, "Challenges"):
 *
 *   sandboxes/<sandbox-id>/challenges/<challenge-id>/challenge.json   title, task, predict, goal, hints
 *   sandboxes/<sandbox-id>/challenges/<challenge-id>/solution/<entry>  the sandbox's entry file, to edit
 *
 * The goal it writes asks for output the shipped code does not print, so check:content
 * passes while the TODOs warn, and the two-way test (tests/runner/challenges.test.ts) fails
 * until the author writes the real goal and solution. It never overwrites anything.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { challengeFile, sandboxChallenge, solutionDir, type SandboxChallengeInput } from '../protocol/challenge.ts';
import { entryFile, sandboxIdPattern } from '../protocol/manifest.ts';
import { challengesDir } from '../sandbox/load-challenges.ts';
import { loadSandbox, SandboxError } from '../sandbox/load-sandbox.ts';

export class NewChallengeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NewChallengeError';
  }
}

export interface NewChallengeResult {
  /** Every file written, relative to the root. */
  files: string[];
}

export async function newChallenge({ root, sandboxId, challengeId }: { root: string; sandboxId: string; challengeId: string }): Promise<NewChallengeResult> {
  if (!sandboxIdPattern.test(challengeId) || challengeId.length > 50) {
    throw new NewChallengeError(`"${challengeId}" is not a usable challenge id: lowercase letters and digits, words joined by single dashes (e.g. await-the-sleep), at most 50`);
  }
  const sandboxesDir = path.join(root, 'sandboxes');
  if (!sandboxIdPattern.test(sandboxId) || !existsSync(path.join(sandboxesDir, sandboxId, 'sandbox.json'))) {
    throw new NewChallengeError(`there is no sandbox "${sandboxId}" (a folder of sandboxes/ with a sandbox.json)`);
  }
  let sandbox;
  try {
    sandbox = await loadSandbox(sandboxesDir, sandboxId, root);
  } catch (err) {
    if (err instanceof SandboxError) throw new NewChallengeError(`the sandbox does not load; fix it first:\n${err.message}`);
    throw err;
  }
  const dir = path.join(sandboxesDir, sandboxId, challengesDir, challengeId);
  const rel = (p: string) => path.relative(root, p).split(path.sep).join('/');
  if (existsSync(dir)) throw new NewChallengeError(`${rel(dir)}/ exists already; nothing was written`);

  const entry = entryFile(sandbox.manifest);
  const comment = sandbox.manifest.language === 'python' ? '#' : '//';
  const challenge: SandboxChallengeInput = {
    id: challengeId,
    title: { en: 'TODO: a short title', zh: 'TODO：简短的标题' },
    task: {
      en: `TODO: what to change in \`${entry}\`, and what to predict before pressing Run.`,
      zh: `TODO：要在 \`${entry}\` 里改什么，以及按下运行之前先预测什么。`,
    },
    predict: {
      question: { en: 'TODO: the question to answer before the first run', zh: 'TODO：第一次运行之前要回答的问题' },
      choices: [
        { en: 'TODO: a choice', zh: 'TODO：一个选项' },
        { en: 'TODO: another (2–4 in all)', zh: 'TODO：另一个选项（共 2–4 个）' },
      ],
    },
    // Replace with rules the shipped code misses and the solution meets (same vocabulary as `expect`).
    goal: { exitCode: 0, stdoutIncludes: ['TODO: replace this goal'] },
    hints: [
      { en: 'TODO: a nudge', zh: 'TODO：轻轻提示一下' },
      { en: 'TODO: nearly the answer (1–3 hints in all)', zh: 'TODO：几乎就是答案（共 1–3 条提示）' },
    ],
  };
  sandboxChallenge.parse(challenge); // the loader's schema: a scaffold that does not load is a bug here
  const planned: [string, string][] = [
    [path.join(dir, challengeFile), `${JSON.stringify(challenge, null, 2)}\n`],
    [path.join(dir, solutionDir, entry), `${comment} TODO: edit this copy of ${entry} into the solution (delete this line)\n${sandbox.files[entry]}`],
  ];
  await mkdir(path.dirname(planned[1]![0]), { recursive: true });
  // `wx`: fail rather than overwrite, even if a file appeared since the check above.
  for (const [file, text] of planned) await writeFile(file, text, { flag: 'wx' });
  return { files: planned.map(([p]) => rel(p)) };
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function main(): Promise<void> {
  const usage = 'usage: npm run new:challenge -- <sandbox-id> <challenge-id> [--root <dir>]';
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { root: { type: 'string' } } });
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (parsed.positionals.length !== 2) {
    console.error(usage);
    process.exit(2);
  }
  const [sandboxId, challengeId] = parsed.positionals as [string, string];
  try {
    const { files } = await newChallenge({ root: path.resolve(parsed.values.root ?? projectRoot), sandboxId, challengeId });
    console.log(`Created challenge ${challengeId} on ${sandboxId}:`);
    for (const file of files) console.log(`  ${file}`);
    console.log(`Next: fill in the TODOs (content/AUTHORING.md, "Challenges"), then \`npm run check:content\` and \`ASYNCLAB_CHALLENGES_ONLY=${sandboxId} node --test tests/runner/challenges.test.ts\`.`);
  } catch (err) {
    if (!(err instanceof NewChallengeError)) throw err;
    console.error(`new:challenge: ${err.message}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
