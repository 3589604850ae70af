/**
 * A run job's data as a node reads it back from Redis. It was built by a gateway from a
 * stranger's message, and Redis is shared by every gateway, so the node checks its shape again
 * before anything runs; the manifest and files themselves are checked by `Runner.run` as always.
 */
import { z } from 'astro/zod';
import { fleetRunIdPattern, type RunJobData } from './contract.ts';

const jobData = z
  .object({
    runId: z.string().regex(fleetRunIdPattern),
    manifest: z.unknown(),
    files: z.record(z.string(), z.string()),
    preview: z.boolean(),
    client: z.string().max(128),
    gateway: z.string().max(64),
    submittedAt: z.number().finite(),
  })
  .strict();

export function parseJobData(data: unknown): { ok: true; data: RunJobData } | { ok: false; detail: string } {
  const parsed = jobData.safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data as RunJobData };
  const issue = parsed.error.issues[0]!;
  return { ok: false, detail: `job data ${issue.path.map(String).join('.')}: ${issue.message}` };
}
