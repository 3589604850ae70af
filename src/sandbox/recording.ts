/**
 * A sandbox's recorded run (`sandboxes/<id>/recorded.json`, committed): what the local
 * runner saw when `npm run record` last ran it. Pages draw its timeline as static HTML,
 * and CI checks it, like a fresh run, against the sandbox's `expect`.
 */
import { z } from 'astro/zod';

export const recordingFile = 'recorded.json';

export const recording = z
  .object({
    sandbox: z.string(),
    recordedAt: z.string(),
    runtime: z.string(),
    exit: z.object({ code: z.number().nullable(), signal: z.string().nullable(), durationMs: z.number() }).strict(),
    stdout: z.string(),
    stderr: z.string(),
    trace: z.array(z.string()),
  })
  .strict();

export type Recording = z.infer<typeof recording>;
