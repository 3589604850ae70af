/**
 * `npm run sandbox -- <id> [--unsafe]`: runs one sandbox from `sandboxes/` through the
 * runner and prints what the page would show: output, request lines, trace count, and
 * how the run ended. Exit status 0 only for a clean end.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSandbox, SandboxError } from '../sandbox/load-sandbox.ts';
import { IsolationUnavailableError, Runner } from '../runner/runner.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const id = args.find((a) => !a.startsWith('--'));
const unsafe = args.includes('--unsafe') || process.env.RUNNER_UNSAFE === '1';

if (!id) {
  console.error('usage: npm run sandbox -- <id> [--unsafe]   (ids are the folders in sandboxes/)');
  process.exit(2);
}

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

try {
  const sandbox = await loadSandbox(path.join(projectRoot, 'sandboxes'), id, projectRoot);
  const runner = await Runner.start({ unsafe });
  if (runner.isolation === 'none') console.error('WARNING: running WITHOUT isolation (--unsafe).');
  let traceEvents = 0;
  let status = 1;
  const handle = runner.run(sandbox, (event) => {
    switch (event.type) {
      case 'queued':
        console.log(dim(`[runner] queued, position ${event.position}`));
        break;
      case 'started':
        console.log(dim(`[runner] started ${id} (${sandbox.manifest.language} ${sandbox.manifest.kind}, isolation: ${runner.isolation})`));
        break;
      case 'stdout':
        process.stdout.write(event.data);
        break;
      case 'stderr':
        process.stderr.write(event.data);
        break;
      case 'trace':
        traceEvents += event.data.split('\n').length;
        break;
      case 'ready':
        console.log(dim(`[runner] server ready on port ${event.port} (inside the sandbox)`));
        break;
      case 'exit': {
        const how = event.signal ? `signal ${event.signal}` : `code ${event.code}`;
        const why = event.reason ? ` — ${event.reason.code}: ${event.reason.message}` : '';
        console.log(dim(`[runner] exited with ${how} after ${(event.durationMs / 1000).toFixed(2)} s, ${traceEvents} trace events${why}`));
        status = event.code === 0 && !event.reason ? 0 : 1;
      }
    }
  });
  process.once('SIGINT', () => handle.stop());
  await handle.done;
  await runner.close();
  process.exit(status);
} catch (err) {
  if (err instanceof SandboxError || err instanceof IsolationUnavailableError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
