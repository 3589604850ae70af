/**
 * One run on a runner over a RunnerClient, as engine events: shared by the local engine
 * (this page's own server) and the remote engine (the hosted fleet's gateway), which differ
 * only in how a live preview is reached and what they report about isolation.
 */
import type { ServerMessage } from '../protocol/messages.ts';
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';
import type { EngineEvent, PreviewAccess, RunOptions } from './engine.ts';
import { EventQueue } from './event-queue.ts';
import { RunnerUnreachableError, type RunnerClient } from './runner-client.ts';

export interface RunnerRunOptions extends RunOptions {
  /** How the page reaches a run's server from the runner's `ready.preview.path`; undefined: no preview. */
  previewAccess(path: string, client: RunnerClient): PreviewAccess | undefined;
  /** Said when no runner answers (English, for logs; the page words the error code). */
  unreachable: string;
  /** Put the runner's isolation (from its hello) on the `running` status. */
  reportIsolation?: boolean;
}

export async function* runOnRunner(
  client: RunnerClient,
  files: SandboxFiles,
  manifest: SandboxManifest,
  signal: AbortSignal,
  options: RunnerRunOptions,
): AsyncGenerator<EngineEvent> {
  const queue = new EventQueue();
  const runId = client.nextRunId();
  yield { type: 'status', state: 'connecting' };
  try {
    await client.start(
      runId,
      manifest,
      files,
      (message) => {
        const event = toEngineEvent(message, client, options);
        if (event) queue.push(event);
      },
      { preview: options.preview === true && manifest.kind === 'server' },
    );
  } catch (err) {
    const unreachable = err instanceof RunnerUnreachableError;
    yield { type: 'error', code: unreachable ? 'runner-unreachable' : 'engine-failed', message: unreachable ? options.unreachable : (err as Error).message };
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

function toEngineEvent(message: ServerMessage, client: RunnerClient, options: RunnerRunOptions): EngineEvent | undefined {
  switch (message.type) {
    case 'queued':
      return { type: 'status', state: 'queued', position: message.position };
    case 'started':
      return options.reportIsolation && client.isolation ? { type: 'status', state: 'running', isolation: client.isolation } : { type: 'status', state: 'running' };
    case 'stdout':
    case 'stderr':
    case 'trace':
      return { type: message.type, data: message.data };
    case 'ready': {
      const preview = message.preview ? options.previewAccess(message.preview.path, client) : undefined;
      if (!preview) return { type: 'ready', port: message.port };
      const limitMs = client.limits?.wallMsPreview;
      return { type: 'ready', port: message.port, preview: { ...preview, ...(limitMs ? { limitMs } : {}) } };
    }
    case 'exit':
      return { type: 'exit', code: message.code, signal: message.signal, durationMs: message.durationMs, reason: message.reason };
    default:
      return undefined;
  }
}
