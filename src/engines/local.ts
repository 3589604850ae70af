/**
 * The local engine: the page's own server runs the sandbox (src/runner) and streams
 * it back over a WebSocket. Full fidelity — threads, processes, servers, real timings.
 */
import type { ServerMessage } from '../protocol/messages.ts';
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';
import type { Engine, EngineEvent, RunOptions, Support } from './engine.ts';
import { EventQueue } from './event-queue.ts';
import { RunnerClient, RunnerUnreachableError } from './runner-client.ts';

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
    const queue = new EventQueue();
    const runId = client.nextRunId();
    yield { type: 'status', state: 'connecting' };
    try {
      await client.start(
        runId,
        manifest,
        files,
        (message) => {
          const event = toEngineEvent(message, client);
          if (event) queue.push(event);
        },
        { preview: options.preview === true && manifest.kind === 'server' },
      );
    } catch (err) {
      const message = err instanceof RunnerUnreachableError ? 'no runner answered on this page\'s server' : (err as Error).message;
      yield { type: 'error', code: err instanceof RunnerUnreachableError ? 'runner-unreachable' : 'engine-failed', message };
      return;
    }
    const onAbort = () => client.stop(runId);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield* queue.drain();
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!queue.ended) client.stop(runId); // the consumer walked away mid-run
      client.forget(runId);
    }
  }
}

function toEngineEvent(message: ServerMessage, client: RunnerClient): EngineEvent | undefined {
  switch (message.type) {
    case 'queued':
      return { type: 'status', state: 'queued', position: message.position };
    case 'started':
      return { type: 'status', state: 'running' };
    case 'stdout':
    case 'stderr':
    case 'trace':
      return { type: message.type, data: message.data };
    case 'ready': {
      if (!message.preview) return { type: 'ready', port: message.port };
      const limitMs = client.limits?.wallMsPreview;
      return { type: 'ready', port: message.port, preview: { path: message.preview.path, token: client.token, ...(limitMs ? { limitMs } : {}) } };
    }
    case 'exit':
      return { type: 'exit', code: message.code, signal: message.signal, durationMs: message.durationMs, reason: message.reason };
    default:
      return undefined;
  }
}
