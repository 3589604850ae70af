/**
 * The hosted runner's address (README "Hosted mode"): `PUBLIC_RUNNER_URL`, baked into the
 * pages at build time, is the gateway's WebSocket URL; live previews are reached over
 * http(s) on the same host. Pure functions: the build checks the variable with them
 * (src/tools/public-runner-url.ts) and the page resolves preview paths with them.
 */

export class RunnerUrlError extends Error {}

/**
 * The gateway URL, normalised, or undefined when unset or empty. Anything else than an
 * absolute ws:// or wss:// URL without credentials or fragment is an error that says why.
 */
export function parseRunnerUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RunnerUrlError(`PUBLIC_RUNNER_URL="${value}" is not a URL: give the gateway's WebSocket address, e.g. wss://runner.example.org/__runner`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new RunnerUrlError(
      `PUBLIC_RUNNER_URL="${value}" must start with ws:// or wss:// (it is the gateway's WebSocket address, e.g. wss://runner.example.org/__runner), not ${url.protocol}//`,
    );
  }
  if (url.username || url.password) throw new RunnerUrlError(`PUBLIC_RUNNER_URL="${value}" must not carry a user name or password: every reader would see them`);
  if (url.hash) throw new RunnerUrlError(`PUBLIC_RUNNER_URL="${value}" must not have a #fragment`);
  return url.href;
}

/** The gateway's http(s) origin: where its preview proxy answers (wss → https, ws → http). */
export function gatewayOrigin(runnerUrl: string): string {
  const url = new URL(runnerUrl);
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
}

/**
 * Where a run's live preview is, from `ready.preview.path` as the gateway sent it: an absolute
 * path on the gateway's own origin. Anything that would resolve elsewhere (`//host/…`, a full
 * URL, a backslash) is refused: the page then shows no preview rather than talk to another host.
 */
export function resolvePreview(path: string, runnerUrl: string): { origin: string; path: string } | undefined {
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) return undefined;
  const origin = gatewayOrigin(runnerUrl);
  let resolved: URL;
  try {
    resolved = new URL(path, origin);
  } catch {
    return undefined;
  }
  if (resolved.origin !== origin) return undefined;
  return { origin, path: resolved.pathname };
}
