/**
 * Which challenges a lesson holds: those of the sandboxes it embeds (<Sandbox id="…">), as
 * progress keys `<sandbox-id>/<challenge-id>` (src/client/progress-store.ts). Read from the
 * folders at build time for the lesson lists and the home page; the challenges themselves
 * are validated where they are loaded (load-challenges.ts, check:content).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const sandboxTag = /<Sandbox\b[^>]*?\bid=["']([^"']+)["']/g;

export function lessonChallengeKeys(lessonBody: string, root: string): string[] {
  const keys: string[] = [];
  const ids = [...new Set([...lessonBody.matchAll(sandboxTag)].map((m) => m[1]!))];
  for (const id of ids) {
    const dir = path.join(root, 'sandboxes', id, 'challenges');
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && existsSync(path.join(dir, entry.name, 'challenge.json'))) keys.push(`${id}/${entry.name}`);
    }
  }
  return keys;
}
