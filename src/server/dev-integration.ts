import type { AstroIntegration } from 'astro';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import path from 'node:path';
import { guardServer } from './guard.ts';
import { newToken } from '../runner/gate.ts';
import { IsolationUnavailableError, Runner } from '../runner/runner.ts';
import { mountRunner } from '../runner/ws.ts';
import { devRunnerMetaKey, runnerMeta } from '../protocol/runner-meta.ts';

/**
 * `npm run dev`: mounts the local runner on Astro's dev server, as src/server does for
 * `npm start`, so the sandboxes run while lessons are written.
 */
export function runnerDevServer(): AstroIntegration {
  return {
    name: 'asynclab:runner-dev',
    hooks: {
      'astro:server:setup': async ({ server, logger }) => {
        const httpServer = server.httpServer as HttpServer | null;
        if (!httpServer || process.env.RUNNER === 'off') return;
        // The same last line of defence as `npm start`'s server, around Vite's handlers as well as ours.
        guardServer(httpServer, { log: (m) => logger.error(m) });
        const store = globalThis as Record<string, unknown>;
        try {
          const runner = await Runner.start({ unsafe: process.env.RUNNER_UNSAFE === '1' });
          const token = newToken();
          const mounted = mountRunner(httpServer, {
            runner,
            token,
            log: (m) => logger.warn(m),
            leaveUpgrade: viteOwnsUpgrade(server.config.base, server.config.server.ws),
          });
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

/**
 * The upgrades Vite's own listener answers on this server: its HMR WebSocket, exactly as Vite
 * tells them apart (sub-protocol `vite-hmr` or `vite-ping` at the HMR path). The runner answers
 * every other upgrade it does not serve with a 404 and closes it.
 */
function viteOwnsUpgrade(base: string, ws: unknown): (req: IncomingMessage) => boolean {
  const wsOptions = typeof ws === 'object' && ws !== null ? (ws as { path?: unknown; port?: unknown; server?: unknown }) : undefined;
  // HMR on a port or server of its own: none of this server's upgrades are Vite's.
  if (ws === false || wsOptions?.port !== undefined || wsOptions?.server !== undefined) return () => false;
  const hmrPath = typeof wsOptions?.path === 'string' ? path.posix.join(base, wsOptions.path) : base;
  return (req) => {
    const protocol = req.headers['sec-websocket-protocol'];
    if (protocol !== 'vite-hmr' && protocol !== 'vite-ping') return false;
    // Parsed as Vite parses it, so that the two never disagree on whose an upgrade is.
    try {
      return new URL(`http://example.com${req.url ?? ''}`).pathname === hmrPath;
    } catch {
      return false; // Vite's own parse throws on it too (and its guard answers): not left hanging here
    }
  };
}
