/**
 * `npm start` / `npm run serve`: serves the built site on loopback and mounts the local
 * runner on the same origin at /__runner (DESIGN §5). Every page carries the runner's
 * per-process token in <meta name="asynclab-runner">. An unexpected error while serving one
 * request ends that request only (guard.ts); the server keeps serving.
 *   PORT (default 4321), HOST (default 127.0.0.1; loopback only), SITE_DIR (default dist/),
 *   RUNNER=off (serve the site only), RUNNER_UNSAFE=1 (run sandboxes without isolation).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newToken } from '../runner/gate.ts';
import { IsolationUnavailableError, Runner } from '../runner/runner.ts';
import { runnerMeta } from '../protocol/runner-meta.ts';
import { createApp } from './app.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const port = Number(process.env.PORT ?? 4321);
const host = process.env.HOST ?? '127.0.0.1';
const root = path.resolve(process.env.SITE_DIR ?? path.join(projectRoot, 'dist'));

function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number (0–65535), got "${process.env.PORT}".`, 2);
if (!['127.0.0.1', 'localhost', '::1'].includes(host)) fail(`HOST must be a loopback address (127.0.0.1, localhost, ::1): the runner executes code.`, 2);

let runner: Runner | undefined;
let runnerProblem: string | undefined;
if (process.env.RUNNER !== 'off') {
  try {
    runner = await Runner.start({ unsafe: process.env.RUNNER_UNSAFE === '1' });
    if (runner.isolation === 'none') console.warn('WARNING: the runner executes sandboxes WITHOUT isolation (RUNNER_UNSAFE=1).');
  } catch (err) {
    if (!(err instanceof IsolationUnavailableError)) throw err;
    runnerProblem = err.message;
    console.error(`${err.message}\nServing the site without a runner.`);
  }
}

const token = newToken();
const { server, mounted } = await createApp({
  root,
  headHtml: runnerMeta(runner ? { token } : { problem: runnerProblem ?? 'off' }),
  runner,
  token,
}).catch((err: Error) => fail(err.message));

server.on('error', (err: NodeJS.ErrnoException) => fail(err.code === 'EADDRINUSE' ? `Port ${port} is in use: set PORT to another one.` : err.message));
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const where = `http://${host.includes(':') ? `[${host}]` : host}:${actual}/`;
  const runnerState = runner ? `runner on (${runner.isolation === 'bwrap' ? 'isolated with bubblewrap' : 'UNISOLATED'})` : 'runner off';
  console.log(`AsyncLab is serving ${path.relative(process.cwd(), root) || '.'} at ${where} — ${runnerState}`);
});

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    // Kill every sandbox before exiting: no run outlives the server.
    void (async () => {
      await runner?.close(); // every run ends (its page hears "stopped") before the sockets close
      await mounted?.close();
      server.closeAllConnections();
      server.close(() => process.exit(0));
    })();
  });
}
