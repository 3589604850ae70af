// Runs a Node script sandbox: imports the entry module from the work directory, traced.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { install, traceMain } from './tracing.mjs';
import { startUpstreamIfNeeded } from './upstream-client.mjs';

install();
await startUpstreamIfNeeded();
const work = process.env.ASYNCLAB_WORK ?? process.cwd();
process.argv = [process.argv[0], path.join(work, process.env.ASYNCLAB_ENTRY)];
traceMain();
await import(pathToFileURL(path.join(work, process.env.ASYNCLAB_ENTRY)).href);
