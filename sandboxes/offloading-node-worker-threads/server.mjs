// server.mjs: the same computation on the main thread and in worker threads
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import workerThreads from 'node:worker_threads';
import { crunch } from './crunch.mjs';

const N = 20_000_000;
const WORKER_FILE = fileURLToPath(new URL('./crunch-worker.mjs', import.meta.url));

function crunchInWorker(n) {
  // One worker per call keeps the example short; a real server would reuse a pool of them.
  return new Promise((resolve, reject) => {
    const worker = new workerThreads.Worker(WORKER_FILE, { workerData: n });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

export default createServer(async (req, res) => {
  const started = performance.now();
  if (req.url === '/main') {
    const total = crunch(N); // runs on the event loop's thread: nothing else can run meanwhile
    res.end(`main thread: ${total} in ${Math.round(performance.now() - started)} ms\n`);
  } else if (req.url === '/worker') {
    const total = await crunchInWorker(N); // the loop only waits for a message
    res.end(`worker: ${total} in ${Math.round(performance.now() - started)} ms\n`);
  } else if (req.url === '/ping') {
    res.end('pong\n');
  } else {
    res.statusCode = 404;
    res.end('not found\n');
  }
});
