// What the Node harness records (the same vocabulary as the Python harness, DESIGN §6):
// - `task main`: the entry module, from import until the event loop has nothing left to do;
// - the `event loop` lane: callbacks that held the loop longer than a threshold (async_hooks
//   before/after), naming the culprit: the request being handled, or the kind of callback;
// - `handler N` lanes for server sandboxes (serve.mjs calls handlerSpan);
// - `thread worker-N` lanes: worker_threads from start to exit.
// ASYNCLAB_TRACE=0 switches it off.
import { createHook, executionAsyncResource } from 'node:async_hooks';
import { syncBuiltinESMExports } from 'node:module';
import workerThreads from 'node:worker_threads';
import { emit, nowUs } from './trace.mjs';

const BUSY_US = Number(process.env.ASYNCLAB_BUSY_US ?? 2000);
const enabled = process.env.ASYNCLAB_TRACE !== '0';
const requestLabel = Symbol('asynclab.request');
let depth = 0;
let started = 0;
let reportBusy = true;

export function setReportBusy(value) {
  reportBusy = value;
}

function culprit() {
  const resource = executionAsyncResource();
  return resource?.[requestLabel] ?? resource?.constructor?.name ?? 'callback';
}

export function install() {
  if (!enabled) return;
  createHook({
    before() {
      if (depth++ === 0) started = nowUs();
    },
    after() {
      if (--depth !== 0) return;
      const took = nowUs() - started;
      if (took >= BUSY_US && reportBusy) {
        const name = culprit();
        emit({ ts: started, ph: 'X', dur: took, cat: 'loop-busy', lane: 'event loop', name, args: { culprit: name } });
      }
    },
  }).enable();
  patchWorkers();
}

/** Marks the script's whole life as `task main`, ending when the loop runs dry. */
export function traceMain() {
  if (!enabled) return;
  emit({ ts: nowUs(), ph: 'B', cat: 'task', lane: 'task main', name: 'main' });
  process.once('beforeExit', () => emit({ ts: nowUs(), ph: 'E', cat: 'task', lane: 'task main', name: 'main' }));
}

let handlers = 0;
/** A server handler span; the request's resource is labelled so loop blocks can name it. */
export function handlerSpan(req, res) {
  if (!enabled) return;
  const lane = `handler ${++handlers}`;
  const name = `${req.method} ${req.url}`;
  const resource = executionAsyncResource();
  if (resource && typeof resource === 'object') resource[requestLabel] = name;
  emit({ ts: nowUs(), ph: 'B', cat: 'handler', lane, name, args: { kind: 'async', thread: 'main', path: req.url } });
  res.once('finish', () => emit({ ts: nowUs(), ph: 'E', cat: 'handler', lane, name }));
}

function patchWorkers() {
  const Original = workerThreads.Worker;
  let count = 0;
  class TracedWorker extends Original {
    constructor(...args) {
      super(...args);
      const lane = `thread worker-${++count}`;
      const name = typeof args[0] === 'string' ? args[0].split('/').pop() : 'worker';
      this.once('online', () => emit({ ts: nowUs(), ph: 'B', cat: 'thread', lane, name, args: { threadId: this.threadId } }));
      this.once('exit', () => emit({ ts: nowUs(), ph: 'E', cat: 'thread', lane, name }));
    }
  }
  workerThreads.Worker = TracedWorker;
  // Lesson code usually writes `import { Worker } from 'node:worker_threads'`: update that binding too.
  syncBuiltinESMExports();
}
