/**
 * The Pyodide engine's Web Worker: boots the interpreter from the site's own assets (no
 * CDN) once, then runs one sandbox at a time, synchronously — the worker's thread is the
 * event loop's thread, so `time.sleep` really blocks it — posting output as it happens.
 */
/// <reference lib="webworker" />
import type { loadPyodide as LoadPyodide } from 'pyodide';
import browser from '../../sandboxes/_harness/python/_asynclab_browser.py?raw';
import hooks from '../../sandboxes/_harness/python/_asynclab_hooks.py?raw';
import trace from '../../sandboxes/_harness/python/_asynclab_trace.py?raw';
import tracing from '../../sandboxes/_harness/python/_asynclab_tracing.py?raw';
import type { BootPhase, FromWorker, ToWorker } from './pyodide-protocol.ts';
import { PyodideSession, type HarnessFiles } from './pyodide-session.ts';

declare const self: DedicatedWorkerGlobalScope;

const harness: HarnessFiles = {
  '_asynclab_browser.py': browser,
  '_asynclab_hooks.py': hooks,
  '_asynclab_trace.py': trace,
  '_asynclab_tracing.py': tracing,
};

let session: PyodideSession | undefined;
const post = (message: FromWorker) => self.postMessage(message);

/** Boot steps on the epoch clock (`performance.timeOrigin` differs between the worker and the page). */
const epoch = (t: number) => performance.timeOrigin + t;

/**
 * Times the wasm's download + compile + instantiate: Pyodide calls
 * `WebAssembly.instantiateStreaming` once, from inside loadPyodide, with no hook of its own.
 */
function timeWasm(phases: BootPhase[]): () => void {
  const original = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = async (...args: Parameters<typeof original>) => {
    const start = performance.now();
    try {
      return await original(...args);
    } finally {
      phases.push({ name: 'wasm-instantiate', start: epoch(start), end: epoch(performance.now()) });
    }
  };
  return () => void (WebAssembly.instantiateStreaming = original);
}

/** The network part of each asset's load, from Resource Timing. */
function fetchPhases(assetsUrl: string): BootPhase[] {
  const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
  return entries
    .filter((e) => e.name.startsWith(new URL(assetsUrl, location.href).href))
    .map((e) => ({ name: `fetch ${e.name.slice(e.name.lastIndexOf('/') + 1)}`, start: epoch(e.startTime), end: epoch(e.responseEnd) }));
}

async function boot({ assetsUrl, lockInfo, interrupt }: Extract<ToWorker, { type: 'boot' }>): Promise<void> {
  const started = performance.now();
  const phases: BootPhase[] = [];
  const mark = (name: string, start: number) => phases.push({ name, start: epoch(start), end: epoch(performance.now()) });
  const restoreWasm = timeWasm(phases);
  try {
    // Loaded at run time from the copied package, not bundled: Pyodide finds its wasm and stdlib beside it.
    const { loadPyodide } = (await import(/* @vite-ignore */ `${assetsUrl}pyodide.mjs`)) as { loadPyodide: typeof LoadPyodide };
    mark('import pyodide.mjs', started);
    session = await PyodideSession.boot(loadPyodide, {
      indexURL: assetsUrl,
      ...(lockInfo ? { lockInfo } : {}),
      harness,
      ...(interrupt ? { interrupt: new Int32Array(interrupt) } : {}),
      onPhase: (name, start) => mark(name, start),
    });
    post({ type: 'booted', ms: Math.round(performance.now() - started), python: session.version, phases: [...phases, ...fetchPhases(assetsUrl)] });
  } catch (err) {
    post({ type: 'boot-failed', message: (err as Error).message });
  } finally {
    restoreWasm();
  }
}

function run(runId: number, files: Record<string, string>, entry: string): void {
  if (!session) {
    post({ type: 'crashed', runId, message: 'Python is not running in this page' });
    return;
  }
  try {
    const { code, limit } = session.run(files, entry, {
      stdout: (data) => post({ type: 'stdout', runId, data }),
      stderr: (data) => post({ type: 'stderr', runId, data }),
      trace: (data) => post({ type: 'trace', runId, data }),
    });
    post({ type: 'exit', runId, code, limit });
  } catch (err) {
    // A fatal interpreter error (e.g. out of memory): this worker cannot run again.
    session = undefined;
    post({ type: 'crashed', runId, message: (err as Error).message });
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === 'boot') void boot(message);
  else run(message.runId, message.files, message.entry);
};
