// Runs a Node server sandbox: the entry module's default export is an http.Server or a
// request listener. Listens on an ephemeral loopback port, reports `ready`, runs the load
// driver as a separate process, waits for it, and closes the server. With a live preview
// (ASYNCLAB_PREVIEW_FD set by the runner) it also starts the preview bridge (preview.mjs)
// before `ready`, and after the load keeps serving until the runner ends the run.
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childStdio, emit, nowUs } from './trace.mjs';
import { handlerSpan, install, setReportBusy } from './tracing.mjs';
import { startUpstreamIfNeeded } from './upstream-client.mjs';

install();
setReportBusy(false); // the app's own start-up is not the lesson
await startUpstreamIfNeeded();

const here = path.dirname(fileURLToPath(import.meta.url));
const work = process.env.ASYNCLAB_WORK ?? process.cwd();
const module = await import(pathToFileURL(path.join(work, process.env.ASYNCLAB_ENTRY)).href);
const exported = module.default ?? module.server;
const server = exported instanceof Server ? exported : typeof exported === 'function' ? createServer(exported) : undefined;
if (!server) {
  console.error(`${process.env.ASYNCLAB_ENTRY} must export default an http.Server or a (req, res) listener`);
  process.exit(1);
}
// Trace each request before the app's own listeners see it.
server.prependListener('request', handlerSpan);

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
const previewFd = process.env.ASYNCLAB_PREVIEW_FD ? Number(process.env.ASYNCLAB_PREVIEW_FD) : undefined;
if (previewFd !== undefined) {
  // A small process of its own: it must not add callbacks to the app's event loop.
  spawn(process.execPath, ['--max-old-space-size=32', '--v8-pool-size=1', path.join(here, 'preview.mjs')], {
    env: { ...process.env, ASYNCLAB_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ignore', previewFd],
  });
  closeSync(previewFd); // the bridge holds it now
}
setReportBusy(true);
emit({ ts: nowUs(), ph: 'i', cat: 'harness', name: 'ready', lane: 'server', args: { port } });
console.log(`[server] listening on http://127.0.0.1:${port}`);

const driver = spawn(process.execPath, [path.join(here, 'load.mjs')], {
  env: { ...process.env, ASYNCLAB_PORT: String(port) },
  stdio: childStdio(),
});
const code = await new Promise((resolve) => driver.once('close', (c) => resolve(c ?? 1)));
if (previewFd !== undefined) {
  // The server keeps the process alive until the runner ends the run.
  console.log('[server] the load is done; the server keeps running for the live preview until you press Stop');
} else {
  server.closeAllConnections?.();
  server.close(() => process.exit(code));
}
