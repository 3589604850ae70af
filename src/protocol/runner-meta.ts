/**
 * How a page learns about the local runner: a meta tag the serving process adds to
 * every page. With a runner it carries the per-process token (so only pages this
 * server served can use it); without one it says why, so the page can tell the reader.
 */
export const runnerMetaName = 'asynclab-runner';

/** Where the dev server leaves the runner meta tag for BaseLayout (same process, rendered per request). */
export const devRunnerMetaKey = '__asynclabRunnerMeta';

export function runnerMeta(state: { token: string } | { problem: string }): string {
  if ('token' in state) return `<meta name="${runnerMetaName}" content="${state.token}">`;
  const escaped = state.problem.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<meta name="${runnerMetaName}" content="" data-unavailable="${escaped}">`;
}
