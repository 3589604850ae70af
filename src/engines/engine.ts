/**
 * The engine interface (DESIGN §4): something that can execute a sandbox and stream
 * what happened. The page asks each engine whether it can run a sandbox, picks the
 * first that can, and tells the reader which one ran it and why the others could not.
 */
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';
import type { Reason } from '../protocol/reasons.ts';

export type EngineId = 'local' | 'remote' | 'pyodide' | 'webcontainer';

export type EngineEvent =
  /**
   * Progress before output: connecting to the engine, waiting in a queue, booting an
   * in-browser runtime (first run on a page only), starting.
   */
  | { type: 'status'; state: 'connecting' | 'queued' | 'booting' | 'starting' | 'running'; position?: number; isolation?: 'bwrap' | 'none' }
  | { type: 'stdout' | 'stderr'; data: string }
  /** One or more NDJSON trace lines, as the harness wrote them. */
  | { type: 'trace'; data: string }
  /** A server sandbox is listening; with `preview`, the page may talk to it until the run ends. */
  | { type: 'ready'; port: number; preview?: PreviewAccess }
  /** The run ended (always the last event of a run that started). */
  | { type: 'exit'; code: number | null; signal: string | null; durationMs: number; reason: Reason | null }
  /** The run could not happen at all (no engine reachable); also last. */
  | { type: 'error'; code: EngineErrorCode; message: string };

/** How the page reaches a running server (a runner engine, run with `preview`): README "Live preview". */
export interface PreviewAccess {
  /** `/__runner/preview/<capability>/`: the server's `/` */
  path: string;
  /**
   * The local runner's token, for the X-AsyncLab-Token header (HTTP) or the __asynclab_token query
   * parameter (WebSocket). Absent for the hosted runner: there the capability in `path` is the key.
   */
  token?: string;
  /** The hosted runner's http(s) origin, which `path` is resolved against; absent: this page's own origin. */
  origin?: string;
  /** The run's wall-time limit with a preview, when the runner said it. */
  limitMs?: number;
}

export interface RunOptions {
  /** Keep a server sandbox serving after its load, for the live-preview panels (only the runner engines can). */
  preview?: boolean;
}

export type EngineErrorCode = 'runner-unreachable' | 'runner-unavailable' | 'engine-failed' | 'boot-failed' | 'webcontainer-offline';

/** Why an engine cannot run a sandbox, as a code the page words in its language, plus detail. */
export interface Unsupported {
  code: 'language' | 'kind' | 'needs' | 'unavailable';
  /** e.g. the missing needs (`threads`), or the runner's own explanation. */
  detail: string;
}

export type Support = { ok: true } | ({ ok: false } & Unsupported);

export interface Engine {
  readonly id: EngineId;
  supports(manifest: SandboxManifest): Support;
  /** Starts whatever a first run would wait for (an in-browser runtime), ahead of the reader's click. */
  prepare?(): void;
  /** Runs to the end; aborting `signal` stops the run (it still ends with an `exit`). */
  run(files: SandboxFiles, manifest: SandboxManifest, signal: AbortSignal, options?: RunOptions): AsyncIterable<EngineEvent>;
}

export interface EngineChoice {
  /** The engine that runs the sandbox unless the reader picks another of `able`. */
  engine: Engine | undefined;
  /** Every engine that can run it, in the given order of preference. */
  able: Engine[];
  /** Every engine that cannot run this sandbox, with why — in the order they were asked. */
  rejected: Array<{ engine: EngineId } & Unsupported>;
}

/** Deterministic: the first engine, in the given order of preference, that supports the sandbox. */
export function chooseEngine(manifest: SandboxManifest, engines: readonly Engine[]): EngineChoice {
  const able: Engine[] = [];
  const rejected: EngineChoice['rejected'] = [];
  for (const engine of engines) {
    const support = engine.supports(manifest);
    if (support.ok) able.push(engine);
    else rejected.push({ engine: engine.id, code: support.code, detail: support.detail });
  }
  return { engine: able[0], able, rejected };
}

/**
 * The page's engines in order of preference: the runner of the server that served the page
 * (`npm start`), then the hosted runner when the build named one (PUBLIC_RUNNER_URL), then the
 * in-browser engines. Without a hosted runner the order is the one a static host always had.
 */
export function pageEngineOrder(engines: { local: Engine; remote?: Engine | undefined; pyodide: Engine; webcontainer: Engine }): Engine[] {
  return [engines.local, ...(engines.remote ? [engines.remote] : []), engines.pyodide, engines.webcontainer];
}
