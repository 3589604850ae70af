/**
 * The reader's progress, kept in localStorage only (no account, no server): challenges
 * done and lessons visited, each with when. One versioned record under one key:
 *
 *   asynclab:progress → { "v": 1, "done": { "<sandbox>/<challenge>": iso }, "visited": { "<lesson>": iso } }
 *
 * Reading never throws: storage disabled, corrupt JSON, a wrong shape or another version
 * all read as no progress (bad single entries are dropped, good ones kept). Writing never
 * throws either: a full or disabled storage keeps progress for this visit only.
 */

export const progressKey = 'asynclab:progress';
export const progressVersion = 1;
/** Far more than the course has; stops a corrupted or hostile record from growing without end. */
const maxEntries = 2000;
const maxKeyLength = 200;
/** Raised on window when progress changes in this tab ('storage' covers the others). */
export const progressEvent = 'asynclab:progress';

export interface Progress {
  /** `<sandbox-id>/<challenge-id>` → when it was first done (ISO 8601). */
  done: Record<string, string>;
  /** Lesson slug → when it was last opened (ISO 8601). */
  visited: Record<string, string>;
}

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export const challengeKey = (sandboxId: string, challengeId: string) => `${sandboxId}/${challengeId}`;
const empty = (): Progress => ({ done: {}, visited: {} });

/** Entries whose key is a short string and whose value a date; anything else is dropped. */
function entries(raw: unknown): Record<string, string> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const kept: [string, string][] = [];
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (kept.length >= maxEntries) break;
    if (!k || k.length > maxKeyLength || typeof v !== 'string' || Number.isNaN(Date.parse(v))) continue;
    kept.push([k, v]);
  }
  // fromEntries defines own properties: a key like "__proto__" stays data, not a prototype.
  return Object.fromEntries(kept);
}

/** Parses a stored record; whatever it is, the answer is a Progress. */
export function parseProgress(text: string | null): Progress {
  if (!text) return empty();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return empty();
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return empty();
  const record = raw as { v?: unknown; done?: unknown; visited?: unknown };
  // Another version (older, or written by a newer page) is not guessed at: no progress.
  if (record.v !== progressVersion) return empty();
  return { done: entries(record.done), visited: entries(record.visited) };
}

function defaultStorage(): Store | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    // Some browsers throw on merely reading localStorage when storage is blocked.
    return undefined;
  }
}

export interface ProgressStore {
  load(): Progress;
  isDone(key: string): boolean;
  /** Marks a challenge done (the first time counts); false when it could not be saved. */
  markDone(key: string, at?: Date): boolean;
  markVisited(lesson: string, at?: Date): boolean;
  /** How many of these challenge keys are done. */
  countDone(keys: readonly string[]): number;
  /** Forgets everything; false when storage refused. */
  reset(): boolean;
}

export function progressStore(storage: Store | undefined = defaultStorage(), notify: () => void = announce): ProgressStore {
  const load = (): Progress => {
    try {
      return parseProgress(storage?.getItem(progressKey) ?? null);
    } catch {
      return empty();
    }
  };
  const save = (p: Progress): boolean => {
    if (!storage) return false;
    try {
      storage.setItem(progressKey, JSON.stringify({ v: progressVersion, done: p.done, visited: p.visited }));
      return true;
    } catch {
      // Quota exceeded or storage disabled: the page still shows this visit's progress.
      return false;
    } finally {
      notify();
    }
  };
  const valid = (key: string) => typeof key === 'string' && key.length > 0 && key.length <= maxKeyLength;
  return {
    load,
    isDone: (key) => Object.hasOwn(load().done, key),
    markDone(key, at = new Date()) {
      if (!valid(key)) return false;
      const p = load();
      if (Object.hasOwn(p.done, key)) return true;
      p.done[key] = at.toISOString();
      return save(p);
    },
    markVisited(lesson, at = new Date()) {
      if (!valid(lesson)) return false;
      const p = load();
      p.visited[lesson] = at.toISOString();
      return save(p);
    },
    countDone(keys) {
      const done = load().done;
      return keys.filter((k) => Object.hasOwn(done, k)).length;
    },
    reset() {
      try {
        storage?.removeItem(progressKey);
        return !!storage;
      } catch {
        return false;
      } finally {
        notify();
      }
    },
  };
}

function announce(): void {
  if (typeof window !== 'undefined' && typeof CustomEvent === 'function') window.dispatchEvent(new CustomEvent(progressEvent));
}
