/**
 * The Pyodide engine: Python script sandboxes that need nothing but the standard
 * library run in the reader's browser, in a Web Worker (pyodide-worker.ts), with the
 * same tracing harness as the local runner — so the same timeline appears on a static
 * host. One worker per page, booted when a Pyodide sandbox nears the viewport (or on the
 * first Run) and kept warm; one run at a time.
 */
import type { LockfileInfo } from 'pyodide';
import { reason, type Reason } from '../protocol/reasons.ts';
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';
import { defaultTimeoutMs } from '../protocol/manifest-rules.ts';
import type { Engine, EngineEvent, Support } from './engine.ts';
import { EventQueue } from './event-queue.ts';
import type { BootPhase, FromWorker, ToWorker } from './pyodide-protocol.ts';
import { browserLimits } from './pyodide-session.ts';

export interface PyodideEngineOptions {
  /** Where the site serves the pyodide package's files (ends with `/`). */
  assetsUrl: string;
  /** The package's lock-file info: with it, Pyodide does not fetch pyodide-lock.json. */
  lockInfo?: LockfileInfo;
  /** Makes the worker; injectable so tests can count and inspect workers. */
  createWorker?: () => Worker;
  /** Whether Stop can interrupt a run in place (shared memory needs cross-origin isolation). */
  crossOriginIsolated?: boolean;
  /** How long an interrupted run may take to unwind before its worker is replaced. */
  stopGraceMs?: number;
}


interface LiveWorker {
  worker: Worker;
  booted: Promise<void>;
  /** True once `booted` resolved: later runs skip the "starting Python" status. */
  ready: boolean;
  interrupt: Int32Array | undefined;
}

const defaultWorker = () => new Worker(new URL('./pyodide-worker.ts', import.meta.url), { type: 'module', name: 'asynclab-python' });

export class PyodideEngine implements Engine {
  readonly id = 'pyodide' as const;
  private readonly options: PyodideEngineOptions;
  private live: LiveWorker | undefined;
  private nextRunId = 1;
  /** Runs wait here for the worker: one interpreter, one run at a time. */
  private turn: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(options: PyodideEngineOptions) {
    this.options = options;
  }

  supports(manifest: SandboxManifest): Support {
    if (manifest.language !== 'python') return { ok: false, code: 'language', detail: manifest.language };
    if (manifest.kind !== 'script') return { ok: false, code: 'kind', detail: manifest.kind };
    if (manifest.needs.length) return { ok: false, code: 'needs', detail: manifest.needs.join(', ') };
    if ((!this.options.createWorker && typeof Worker === 'undefined') || typeof WebAssembly === 'undefined') return { ok: false, code: 'unavailable', detail: 'no Web Workers or WebAssembly' };
    return { ok: true };
  }

  /** Whether the interpreter is already running on this page (a run will not boot it). */
  get warm(): boolean {
    return this.live?.ready ?? false;
  }

  /**
   * Boots the interpreter ahead of a run (the page calls this when a Pyodide sandbox comes
   * near the viewport, or the reader points at Run), so the reader's first Run finds it
   * warm or part-way there. Idempotent; a failed boot is retried, and reported, by the run.
   */
  prepare(): void {
    this.start();
  }

  private start(): LiveWorker {
    if (this.live) return this.live;
    const worker = (this.options.createWorker ?? defaultWorker)();
    const shared = this.options.crossOriginIsolated ?? (typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated);
    const buffer = shared ? new SharedArrayBuffer(4) : undefined;
    const booted = new Promise<void>((resolve, reject) => {
      const onMessage = (event: MessageEvent<FromWorker>) => {
        if (event.data.type === 'booted') {
          recordPhases(event.data.phases);
          resolve();
        }
        else if (event.data.type === 'boot-failed') reject(new Error(event.data.message));
        else return;
        worker.removeEventListener('message', onMessage);
      };
      worker.addEventListener('message', onMessage);
      worker.addEventListener('error', (event) => reject(new Error(event.message || 'the Python worker failed to load')), { once: true });
    });
    const live: LiveWorker = { worker, booted, ready: false, interrupt: buffer ? new Int32Array(buffer) : undefined };
    booted.then(() => (live.ready = true), () => this.discard(live));
    worker.postMessage({ type: 'boot', assetsUrl: this.options.assetsUrl, lockInfo: this.options.lockInfo, interrupt: buffer } satisfies ToWorker);
    this.live = live;
    return live;
  }

  private discard(live: LiveWorker): void {
    live.worker.terminate();
    if (this.live === live) this.live = undefined;
  }

  async *run(files: SandboxFiles, manifest: SandboxManifest, signal: AbortSignal): AsyncIterable<EngineEvent> {
    // Wait for the runs ahead of this one on the page's single interpreter.
    let release!: () => void;
    const previous = this.turn;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    this.waiting += 1;
    try {
      if (this.waiting > 1) yield { type: 'status', state: 'queued', position: this.waiting - 1 };
      await previous;
      if (signal.aborted) {
        yield { type: 'exit', code: null, signal: null, durationMs: 0, reason: reason('stopped') };
        return;
      }
      yield* this.runNow(files, manifest, signal);
    } finally {
      this.waiting -= 1;
      release();
    }
  }

  private async *runNow(files: SandboxFiles, manifest: SandboxManifest, signal: AbortSignal): AsyncIterable<EngineEvent> {
    const live = this.start();
    if (!live.ready) yield { type: 'status', state: 'booting' };
    try {
      await live.booted;
    } catch (err) {
      yield { type: 'error', code: 'boot-failed', message: (err as Error).message };
      return;
    }

    const runId = this.nextRunId++;
    const queue = new EventQueue();
    let finished = false;
    let stopReason: Reason | undefined;
    const started = performance.now();
    const push = (event: EngineEvent) => queue.push(event);
    const finish = (code: number | null, why: Reason | null) => {
      if (finished) return;
      finished = true;
      cleanup();
      push({ type: 'exit', code, signal: null, durationMs: Math.round(performance.now() - started), reason: why });
    };
    const onMessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (!('runId' in message) || message.runId !== runId) return;
      if (message.type === 'exit') {
        const why = message.limit ? limitReason(message.limit) : (stopReason ?? null);
        finish(message.code, why);
      } else if (message.type === 'crashed') {
        this.discard(live);
        push({ type: 'stderr', data: `\n${message.message}\n` });
        finish(null, stopReason ?? reason('internal', { detail: message.message }));
      } else {
        push({ type: message.type, data: message.type === 'trace' ? `${message.data}\n` : message.data });
      }
    };
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const stop = (why: Reason) => {
      if (finished || stopReason) return;
      stopReason = why;
      if (live.interrupt) {
        // KeyboardInterrupt at the next bytecode; a run that swallows it loses its worker.
        Atomics.store(live.interrupt, 0, 2);
        graceTimer = setTimeout(() => kill(), this.options.stopGraceMs ?? 1500);
      } else {
        kill();
      }
    };
    const kill = () => {
      if (finished) return;
      this.discard(live); // the next run boots a fresh interpreter
      finish(null, stopReason ?? reason('stopped'));
    };
    const onAbort = () => stop(reason('stopped'));
    const timeoutMs = defaultTimeoutMs(manifest);
    const deadline = setTimeout(() => stop(reason('timeout', { seconds: timeoutMs / 1000 })), timeoutMs);
    const cleanup = () => {
      clearTimeout(deadline);
      clearTimeout(graceTimer);
      live.worker.removeEventListener('message', onMessage);
      signal.removeEventListener('abort', onAbort);
    };

    live.worker.addEventListener('message', onMessage);
    signal.addEventListener('abort', onAbort, { once: true });
    live.worker.postMessage({ type: 'run', runId, files, entry: manifest.entry } satisfies ToWorker);
    if (signal.aborted) onAbort();
    yield { type: 'status', state: 'running' };
    try {
      yield* queue.drain();
    } finally {
      if (!finished) {
        // The reader walked away mid-run (the view was torn down): do not leave Python spinning.
        stop(reason('stopped'));
        kill();
      }
    }
  }
}

/** The worker's boot steps as User Timing measures on the page (the benchmark reads them; DevTools shows them). */
function recordPhases(phases: BootPhase[]): void {
  if (typeof performance === 'undefined' || typeof performance.measure !== 'function') return;
  for (const phase of phases) {
    try {
      performance.measure(`pyodide: ${phase.name}`, { start: phase.start - performance.timeOrigin, end: phase.end - performance.timeOrigin });
    } catch {
      // A clock that went backwards must not break a boot for a measurement.
    }
  }
}

function limitReason(limit: 'output-limit' | 'trace-limit'): Reason {
  return limit === 'output-limit'
    ? reason('output-limit', { kib: browserLimits.outputBytes / 1024 })
    : reason('trace-limit', { kib: browserLimits.traceBytes / 1024, events: browserLimits.traceEvents });
}
