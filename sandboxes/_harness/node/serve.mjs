// Runs a Node server sandbox: the entry module's default export is an http.Server or a
// request listener. Listens on an ephemeral loopback port, reports `ready`, runs the load
// driver as a separate process, waits for it, and closes the server.
import { spawn } from 'node:child_process';
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
setReportBusy(true);
emit({ ts: nowUs(), ph: 'i', cat: 'harness', name: 'ready', lane: 'server', args: { port } });
console.log(`[server] listening on http://127.0.0.1:${port}`);

const driver = spawn(process.execPath, [path.join(here, 'load.mjs')], {
  env: { ...process.env, ASYNCLAB_PORT: String(port) },
  stdio: childStdio(),
});
const code = await new Promise((resolve) => driver.once('close', (c) => resolve(c ?? 1)));
server.closeAllConnections?.();
server.close(() => process.exit(code));
