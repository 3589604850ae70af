/**
 * Build check for `PUBLIC_RUNNER_URL` (README "Hosted mode"): the value Vite will bake into
 * the pages (from the environment or a .env file, as `import.meta.env` sees it) must be a
 * ws:// or wss:// URL, or the build stops here with one line saying why, instead of
 * shipping pages whose every Run fails.
 */
import type { Plugin } from 'vite';
import { parseRunnerUrl } from '../engines/remote-url.ts';

export const runnerUrlVariable = 'PUBLIC_RUNNER_URL';

export function publicRunnerUrlCheck(): Plugin {
  return {
    name: 'asynclab-public-runner-url',
    configResolved(config) {
      // Throws RunnerUrlError with the reason; Vite (and so `astro build`) stops with it.
      parseRunnerUrl(config.env[runnerUrlVariable] as string | undefined);
    },
  };
}
