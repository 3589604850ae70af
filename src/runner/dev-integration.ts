import type { AstroIntegration } from 'astro';
import { newToken } from './gate.ts';
import { IsolationUnavailableError, Runner } from './runner.ts';
import { mountRunner } from './ws.ts';
import { devRunnerMetaKey, runnerMeta } from '../server/runner-meta.ts';

/**
 * `npm run dev`: mounts the local runner on Astro's dev server, as src/server does for
 * `npm start`, so the sandboxes run while lessons are written.
 */
export function runnerDevServer(): AstroIntegration {
  return {
    name: 'asynclab:runner-dev',
    hooks: {
      'astro:server:setup': async ({ server, logger }) => {
        const httpServer = server.httpServer;
        if (!httpServer || process.env.RUNNER === 'off') return;
        const store = globalThis as Record<string, unknown>;
        try {
          const runner = await Runner.start({ unsafe: process.env.RUNNER_UNSAFE === '1' });
          const token = newToken();
          const mounted = mountRunner(httpServer as import('node:http').Server, { runner, token, log: (m) => logger.warn(m) });
          // Live-preview requests before Vite's own middleware.
          server.middlewares.use((req, res, next) => {
            if (!mounted.handleRequest(req, res)) next();
          });
          store[devRunnerMetaKey] = runnerMeta({ token });
          httpServer.once('close', () => void runner.close().then(() => mounted.close()));
          logger.info(`runner mounted at /__runner (${runner.isolation === 'bwrap' ? 'isolated with bubblewrap' : 'UNISOLATED'})`);
        } catch (err) {
          if (!(err instanceof IsolationUnavailableError)) throw err;
          store[devRunnerMetaKey] = runnerMeta({ problem: err.message });
          logger.warn(err.message);
        }
      },
    },
  };
}
