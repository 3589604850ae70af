// crunch-worker.mjs: runs in a Worker thread, with its own event loop and V8 isolate
import { parentPort, workerData } from 'node:worker_threads';
import { crunch } from './crunch.mjs';

parentPort.postMessage(crunch(workerData));
