// Runs a Node script sandbox: imports the entry module from the work directory.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const work = process.env.ASYNCLAB_WORK ?? process.cwd();
process.argv = [process.argv[0], path.join(work, process.env.ASYNCLAB_ENTRY)];
await import(pathToFileURL(path.join(work, process.env.ASYNCLAB_ENTRY)).href);
