/**
 * The WebContainer engine: Node sandboxes run in StackBlitz's WebContainer, a Node.js
 * runtime inside the reader's browser. One container per page, booted on the first Run
 * and reused; the Node harness is mounted once, the sandbox's files afresh for each run;
 * a server sandbox's load driver runs inside the container too. It needs a cross-origin
 * isolated page and StackBlitz's servers, so it cannot boot offline (DESIGN §4): the
 * container API is reached through the narrow `ContainerApi` below, which the unit tests
 * replace, and an opt-in online test drives the real one.
 */
import type { FileSystemTree, WebContainerProcess } from '@webcontainer/api';
import { reason, type Reason } from '../protocol/reasons.ts';
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';
import { defaultTimeoutMs } from '../protocol/manifest-rules.ts';
import type { Engine, EngineEvent, Support } from './engine.ts';
import { containerLayout, harnessTree, workTree } from './webcontainer-files.ts';
import { TerminalOutputSplitter } from './webcontainer-output.ts';

/** What this engine uses of a booted WebContainer. */
export interface Container {
  readonly workdir: string;
  mount(tree: FileSystemTree): Promise<void>;
  rm(path: string): Promise<void>;
  spawn(command: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<Pick<WebContainerProcess, 'exit' | 'output' | 'kill'>>;
  teardown(): void;
}

export interface ContainerApi {
  boot(): Promise<Container>;
  /** The harness files to mount: Node harness by name, and the shared fake upstream. */
  harness(): Promise<{ node: Record<string, string>; upstream: string }>;
}

/** Why this browser cannot run WebContainers, as a stable code the page words. */
export type ContainerUnavailable = 'not-isolated' | 'no-shared-memory';

export interface WebContainerEngineOptions {
  api: ContainerApi;
  /** The page's answer to "can WebContainers run here at all" (see `containerSupport`). */
  unavailable: ContainerUnavailable | undefined;
  /** How long to wait for StackBlitz's servers before saying they did not answer. */
  bootTimeoutMs?: number;
}

/** `needs` a container can meet: everything happens inside it (node processes, worker threads, a fake upstream). */
const containerNeeds = new Set(['upstream', 'threads', 'processes']);
const OUTPUT_LIMIT = 1024 * 1024; // the runner's, as for Pyodide (src/runner/limits.ts)
const DRAIN_MS = 250;

/** Checked once per page: WebContainers need SharedArrayBuffer, which needs cross-origin isolation. */
export function containerSupport(scope: { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown }): ContainerUnavailable | undefined {
  if (!scope.crossOriginIsolated) return 'not-isolated';
  if (typeof scope.SharedArrayBuffer !== 'function') return 'no-shared-memory';
  return undefined;
}

export class BootTimeoutError extends Error {}

export class WebContainerEngine implements Engine {
  readonly id = 'webcontainer' as const;
  private readonly options: WebContainerEngineOptions;
  private container: Promise<Container> | undefined;
  private turn: Promise<void> = Promise.resolve();

  constructor(options: WebContainerEngineOptions) {
    this.options = options;
  }

  supports(manifest: SandboxManifest): Support {
    if (manifest.language !== 'node') return { ok: false, code: 'language', detail: manifest.language };
    const missing = manifest.needs.filter((need) => !containerNeeds.has(need));
    if (missing.length) return { ok: false, code: 'needs', detail: missing.join(', ') };
    if (this.options.unavailable) return { ok: false, code: 'unavailable', detail: this.options.unavailable };
    return { ok: true };
  }

  /** Boots once per page (a second boot on the same page is refused by the API). */
  private boot(): Promise<Container> {
    this.container ??= (async () => {
      const timeoutMs = this.options.bootTimeoutMs ?? 30_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BootTimeoutError(`no answer from StackBlitz's servers within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      try {
        const [container, harness] = await Promise.race([Promise.all([this.options.api.boot(), this.options.api.harness()]), timeout]);
        await container.mount(harnessTree(harness.node, harness.upstream));
        return container;
      } finally {
        clearTimeout(timer);
      }
    })();
    this.container.catch(() => (this.container = undefined)); // a later Run may try again
    return this.container;
  }

  /** Ends the page's container (page unload; tests). The next Run boots a new one. */
  async dispose(): Promise<void> {
    const container = this.container;
    this.container = undefined;
    if (container) (await container.catch(() => undefined))?.teardown();
  }

  async *run(files: SandboxFiles, manifest: SandboxManifest, signal: AbortSignal): AsyncIterable<EngineEvent> {
    let release!: () => void;
    const previous = this.turn;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous; // one run at a time in the page's container: timings stay honest
      yield* this.runNow(files, manifest, signal);
    } finally {
      release();
    }
  }

  private async *runNow(files: SandboxFiles, manifest: SandboxManifest, signal: AbortSignal): AsyncIterable<EngineEvent> {
    const booting = this.container === undefined;
    if (booting) yield { type: 'status', state: 'booting' };
    let container: Container;
    try {
      container = await this.boot();
    } catch (err) {
      const offline = err instanceof BootTimeoutError;
      yield { type: 'error', code: offline ? 'webcontainer-offline' : 'boot-failed', message: (err as Error).message };
      return;
    }
    if (signal.aborted) {
      yield { type: 'exit', code: null, signal: null, durationMs: 0, reason: reason('stopped') };
      return;
    }
    yield { type: 'status', state: 'starting' };
    await container.rm(containerLayout.work);
    await container.mount(workTree(files));
    const script = manifest.kind === 'server' ? 'serve.mjs' : 'run.mjs';
    const started = performance.now();
    const child = await container.spawn('node', [`../${containerLayout.harness}/node/${script}`], {
      cwd: containerLayout.work,
      env: containerEnv(container.workdir, manifest),
    });
    let stopReason: Reason | undefined;
    const stop = (why: Reason) => {
      stopReason ??= why;
      child.kill();
    };
    const onAbort = () => stop(reason('stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = defaultTimeoutMs(manifest);
    const deadline = setTimeout(() => stop(reason('timeout', { seconds: timeoutMs / 1000 })), timeoutMs);
    if (signal.aborted) onAbort();
    yield { type: 'status', state: 'running' };
    const splitter = new TerminalOutputSplitter();
    const reader = child.output.getReader();
    // After the process exits, its last chunks may still be in flight: wait briefly for them.
    const drained = child.exit.then(() => new Promise<'drained'>((resolve) => setTimeout(() => resolve('drained'), DRAIN_MS)));
    let outputBytes = 0;
    try {
      let read = reader.read();
      for (;;) {
        const next = await Promise.race([read, drained]);
        if (next === 'drained' || next.done) break;
        read = reader.read();
        outputBytes += next.value.length;
        if (outputBytes > OUTPUT_LIMIT) {
          stop(reason('output-limit', { kib: OUTPUT_LIMIT / 1024 }));
          break;
        }
        yield* splitter.push(next.value);
      }
      yield* splitter.end();
      const code = await child.exit;
      yield { type: 'exit', code: stopReason ? null : code, signal: null, durationMs: Math.round(performance.now() - started), reason: stopReason ?? null };
    } finally {
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
      void reader.cancel().catch(() => undefined);
      if (!stopReason) child.kill(); // no-op after a normal exit; stops it if the reader walked away
    }
  }
}

/** The same variables the local runner gives the harness (src/runner/sandbox-command.ts), for the container's paths. */
export function containerEnv(workdir: string, manifest: SandboxManifest): Record<string, string> {
  return {
    ASYNCLAB_WORK: `${workdir}/${containerLayout.work}`,
    ASYNCLAB_HARNESS: `${workdir}/${containerLayout.harness}`,
    ASYNCLAB_KIND: manifest.kind,
    ASYNCLAB_ENTRY: manifest.entry,
    // No fd 3 in a container: trace lines go to stdout behind the harness's prefix.
    ASYNCLAB_TRACE_FD: '-1',
    ASYNCLAB_LOAD: JSON.stringify(manifest.load ?? []),
    ASYNCLAB_NEEDS: manifest.needs.join(','),
    // Plain text: the console is not a colour terminal.
    NO_COLOR: '1',
    NODE_DISABLE_COLORS: '1',
  };
}
