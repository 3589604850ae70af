/**
 * What a sandbox's Run, Edit, "Open in Perfetto" and challenges need and the page does not:
 * its files (the page shows them highlighted, not as data), its recorded trace, and its
 * challenges with their solutions. Served as one static
 * JSON file per sandbox (`/sandbox-data/<id>.json`), fetched on the reader's first intent, so
 * a lesson page carries none of it. The URL names a hash of the content, so a changed lesson
 * never meets a stale copy and an unchanged one can be cached for good.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadChallenges, type LoadedChallenge } from './load-challenges.ts';
import { loadSandbox } from './load-sandbox.ts';
import { recording, recordingFile } from './recording.ts';
import type { SandboxFiles } from '../protocol/manifest.ts';

export interface SandboxPayload {
  files: SandboxFiles;
  /** The recorded run's trace lines (NDJSON), or null when the sandbox has no recording. */
  recorded: string[] | null;
  /** The sandbox's challenges with their solutions (issue 19): like the files, wanted only once the reader acts. */
  challenges: LoadedChallenge[];
}

/** The payload of one sandbox, read from `sandboxes/<id>/` under the project root. */
export async function sandboxPayload(root: string, id: string): Promise<SandboxPayload> {
  const { files } = await loadSandbox(path.join(root, 'sandboxes'), id, root);
  const challenges = await loadChallenges(path.join(root, 'sandboxes'), id, root, files);
  const file = path.join(root, 'sandboxes', id, recordingFile);
  const recorded = existsSync(file) ? recording.parse(JSON.parse(readFileSync(file, 'utf8'))).trace : null;
  return { files, recorded, challenges };
}

/** The payload as served: compact JSON, and the version the page's URL names. */
export function payloadBody(payload: SandboxPayload): { body: string; version: string } {
  const body = JSON.stringify(payload);
  return { body, version: createHash('sha256').update(body).digest('hex').slice(0, 12) };
}

export const payloadPath = (id: string, version: string) => `/sandbox-data/${id}.json?v=${version}`;

/** Every sandbox id (folders of `sandboxes/` with a manifest). */
export function sandboxIds(root: string): string[] {
  const dir = path.join(root, 'sandboxes');
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('_') && existsSync(path.join(dir, e.name, 'sandbox.json')))
    .map((e) => e.name)
    .sort();
}
