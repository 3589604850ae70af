/**
 * Fetches a sandbox's payload (files and recorded trace, see src/sandbox/sandbox-data.ts) the
 * first time something needs it: once per URL and page, shared by every caller; a failed
 * fetch is forgotten so the next intent tries again; a reply of the wrong shape is an error,
 * never half-used.
 */
import type { SandboxPayload } from '../../sandbox/sandbox-data.ts';

type Fetch = (url: string) => Promise<Pick<Response, 'ok' | 'status' | 'json'>>;

const isStringRecord = (value: unknown): value is Record<string, string> =>
  !!value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');

/** Checks a parsed reply; throws naming what is wrong. */
export function parsePayload(value: unknown): SandboxPayload {
  if (!value || typeof value !== 'object') throw new Error('sandbox data is not an object');
  const { files, recorded } = value as Record<string, unknown>;
  if (!isStringRecord(files) || !Object.keys(files).length) throw new Error('sandbox data has no files');
  if (recorded !== null && !(Array.isArray(recorded) && recorded.every((line) => typeof line === 'string'))) throw new Error('sandbox data has a malformed recording');
  return { files, recorded };
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
