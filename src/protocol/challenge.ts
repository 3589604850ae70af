import { z } from 'astro/zod';
import { localized, localizedText, sandboxExpect, sandboxIdPattern } from './manifest.ts';

/**
 * `sandboxes/<sandbox-id>/challenges/<challenge-id>/challenge.json`: an exercise built on a
 * sandbox (issue 19). The reader edits the sandbox's files in place; the `goal` is a claim of
 * the same vocabulary as the sandbox's `expect`, checked on the reader's own run. The code as
 * shipped must not meet it and the solution (files in `solution/` beside this one) must, on
 * any CPU: CI runs both (tests/runner/challenges.test.ts).
 */
export const challengeFile = 'challenge.json';
export const solutionDir = 'solution';

/** What to change and what to predict: a few sentences, inline `code` allowed. */
const taskText = localizedText(600);
/** A hint, or a question and its choices: a sentence or two. */
const shortText = localizedText(300);

export const challengePredict = z
  .object({
    question: shortText,
    choices: z.array(shortText).min(2, 'needs 2 to 4 choices').max(4, 'needs 2 to 4 choices'),
  })
  .strict();

export const sandboxChallenge = z
  .object({
    id: z.string().regex(sandboxIdPattern, 'lowercase words joined by dashes'),
    title: localized,
    task: taskText,
    /** Asked before the first run, shown next to the result afterwards. */
    predict: challengePredict.optional(),
    /** The shape of the timeline the reader's change should produce: an `expect`. */
    goal: sandboxExpect.refine((g) => Object.keys(g).length > 0, 'names at least one rule'),
    /** From a nudge to nearly the answer. */
    hints: z.array(shortText).min(1, 'needs 1 to 3 hints').max(3, 'needs 1 to 3 hints'),
  })
  .strict();

export type SandboxChallenge = z.infer<typeof sandboxChallenge>;
export type SandboxChallengeInput = z.input<typeof sandboxChallenge>;
export type ChallengePredict = z.infer<typeof challengePredict>;
