/**
 * Fetches a sandbox's payload (files, recorded trace and challenges, see src/sandbox/sandbox-data.ts) the
 * first time something needs it: once per URL and page, shared by every caller; a failed
 * fetch is forgotten so the next intent tries again; a reply of the wrong shape is an error,
 * never half-used.
 */
import type { SandboxPayload } from '../../sandbox/sandbox-data.ts';

type Fetch = (url: string) => Promise<Pick<Response, 'ok' | 'status' | 'json'>>;

const isStringRecord = (value: unknown): value is Record<string, string> =>
  !!value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');

/**
 * The shape the page relies on; the content itself was validated by the build
 * (src/protocol/challenge.ts), and the page does not carry zod for it.
 */
const isChallenge = (value: unknown): value is SandboxPayload['challenges'][number] => {
  if (!value || typeof value !== 'object') return false;
  const { challenge, solution } = value as Record<string, unknown>;
  if (!challenge || typeof challenge !== 'object' || !isStringRecord(solution)) return false;
  const c = challenge as Record<string, unknown>;
  return typeof c.id === 'string' && !!c.goal && typeof c.goal === 'object' && Array.isArray(c.hints) && !!c.task && typeof c.task === 'object';
};

/** Checks a parsed reply; throws naming what is wrong. */
export function parsePayload(value: unknown): SandboxPayload {
  if (!value || typeof value !== 'object') throw new Error('sandbox data is not an object');
  const { files, recorded, challenges = [] } = value as Record<string, unknown>;
  if (!isStringRecord(files) || !Object.keys(files).length) throw new Error('sandbox data has no files');
  if (recorded !== null && !(Array.isArray(recorded) && recorded.every((line) => typeof line === 'string'))) throw new Error('sandbox data has a malformed recording');
  if (!Array.isArray(challenges) || !challenges.every(isChallenge)) throw new Error('sandbox data has a malformed challenge');
  return { files, recorded, challenges };
}

export function createDataLoader(fetcher: Fetch = (url) => fetch(url)) {
  const pending = new Map<string, Promise<SandboxPayload>>();
  return (url: string): Promise<SandboxPayload> => {
    let load = pending.get(url);
    if (!load) {
      load = (async () => {
        const response = await fetcher(url);
        if (!response.ok) throw new Error(`could not load the sandbox's code (HTTP ${response.status})`);
        return parsePayload(await response.json());
      })();
      pending.set(url, load);
      load.catch(() => pending.delete(url));
    }
    return load;
  };
}

/** The page's loader. */
export const loadSandboxData = createDataLoader();
