/**
 * The local engine: the page's own server runs the sandbox (src/runner) and streams
 * it back over a WebSocket. Full fidelity — threads, processes, servers, real timings.
 */
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';
import type { Engine, EngineEvent, RunOptions, Support } from './engine.ts';
import type { RunnerClient } from './runner-client.ts';
import { runOnRunner } from './runner-run.ts';

export interface LocalEngineOptions {
  client: RunnerClient | undefined;
  /** Set when the serving page said it has no runner, and why. */
  unavailable?: string;
}

export class LocalEngine implements Engine {
  readonly id = 'local' as const;
  private readonly client: RunnerClient | undefined;
  private readonly unavailable: string | undefined;

  constructor({ client, unavailable }: LocalEngineOptions) {
    this.client = client;
    this.unavailable = client ? undefined : (unavailable ?? 'this page was not served with a runner');
  }

  supports(_manifest: SandboxManifest): Support {
    // The runner runs every language, kind and need it was built for; only its absence stops it.
    if (this.unavailable) return { ok: false, code: 'unavailable', detail: this.unavailable };
    return { ok: true };
  }

  async *run(files: SandboxFiles, manifest: SandboxManifest, signal: AbortSignal, options: RunOptions = {}): AsyncIterable<EngineEvent> {
    const client = this.client;
    if (!client) {
      yield { type: 'error', code: 'runner-unavailable', message: this.unavailable ?? 'no runner' };
      return;
    }
    yield* runOnRunner(client, files, manifest, signal, {
      ...options,
      unreachable: "no runner answered on this page's server",
      // Same origin: the path as the runner gave it, with the per-process token beside it.
      previewAccess: (path, c) => ({ path, token: c.token }),
    });
  }
}
