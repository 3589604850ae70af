/**
 * A reader's edits, per sandbox, in localStorage: only files that differ from the
 * original are kept, so "edited" means exactly "differs from what the lesson shows".
 */
import type { SandboxFiles } from '../../protocol/manifest.ts';

const key = (id: string) => `asynclab:sandbox:${id}`;

export function loadEdits(id: string, originals: SandboxFiles): SandboxFiles {
  try {
    const stored = JSON.parse(localStorage.getItem(key(id)) ?? '{}') as unknown;
    if (!stored || typeof stored !== 'object') return {};
    // Ignore files the sandbox no longer has (the lesson changed since the edit).
    return Object.fromEntries(
      Object.entries(stored as Record<string, unknown>).filter(
        (entry): entry is [string, string] => entry[0] in originals && typeof entry[1] === 'string' && entry[1] !== originals[entry[0]],
      ),
    );
  } catch {
    return {};
  }
}

/** Whether anything is stored for this sandbox (checked against its files once they load). */
export function hasEdits(id: string): boolean {
  try {
    return !!localStorage.getItem(key(id));
  } catch {
    return false;
  }
}

export function saveEdits(id: string, edits: SandboxFiles): void {
  try {
    if (Object.keys(edits).length) localStorage.setItem(key(id), JSON.stringify(edits));
    else localStorage.removeItem(key(id));
  } catch {
    // Storage full or disabled: the edit still lives in the editor for this visit.
  }
}
