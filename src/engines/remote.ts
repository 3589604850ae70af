/**
 * The remote engine: the hosted fleet's gateway (README "Hosted mode") runs the sandbox on
 * one of its runner nodes, over the same WebSocket protocol as the local runner, from a page
 * on another origin. No per-process token: the gateway checks the page's Origin, and a live
 * preview is reached by its unguessable per-run path on the gateway's http(s) origin.
 * When the gateway goes away on purpose (close 4000) the client reconnects with backoff.
 */
import { reconnectCloseCode } from '../protocol/close-codes.ts';
import { reason, type Reason } from '../protocol/reasons.ts';
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';
import type { Engine, EngineEvent, RunOptions, Support } from './engine.ts';
import { resolvePreview } from './remote-url.ts';
import { RunnerClient, type SocketLike } from './runner-client.ts';
import { runOnRunner } from './runner-run.ts';

export interface RemoteEngineOptions {
  /** The gateway's WebSocket URL (PUBLIC_RUNNER_URL, already checked by parseRunnerUrl). */
  url: string;
  createSocket?: (url: string) => SocketLike;
  connectTimeoutMs?: number;
  /** The reconnect schedule after a close 4000 (default: reconnectBackoff). */
  reconnectDelayMs?: (attempt: number) => number | undefined;
}

/** 0.5 s, 1 s, 2 s, 4 s, then every 8 s, for about two minutes; a little jitter so pages do not come back in step. */
export function reconnectBackoff(attempt: number, random: () => number = Math.random): number | undefined {
  if (attempt >= 18) return undefined;
  const base = Math.min(8_000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Why runs of a gateway connection end when it closes; a refusal the gateway sent first wins. */
export function remoteLostReason(code: number | undefined, refusal: Reason | undefined): Reason {
  if (refusal) return refusal;
  return reason('fleet-unavailable', {
    detail: code === reconnectCloseCode ? 'its gateway is restarting' : 'the connection to the gateway was lost',
  });
}

export class RemoteEngine implements Engine {
  readonly id = 'remote' as const;
  readonly url: string;
  readonly client: RunnerClient;

  constructor({ url, createSocket, connectTimeoutMs = 5_000, reconnectDelayMs = reconnectBackoff }: RemoteEngineOptions) {
    this.url = url;
    this.client = new RunnerClient({ url, lostReason: remoteLostReason, reconnectDelayMs, connectTimeoutMs, ...(createSocket ? { createSocket } : {}) });
  }

  supports(_manifest: SandboxManifest): Support {
    // The fleet's nodes run the same runner as `npm start`: every sandbox. Whether the gateway
    // answers is known only by trying; a failed run falls back (fallback.ts).
    return { ok: true };
  }

  run(files: SandboxFiles, manifest: SandboxManifest, signal: AbortSignal, options: RunOptions = {}): AsyncIterable<EngineEvent> {
    return runOnRunner(this.client, files, manifest, signal, {
      ...options,
      unreachable: `the hosted runner at ${this.url} did not answer or refused the connection`,
      reportIsolation: true,
      previewAccess: (path) => resolvePreview(path, this.url),
    });
  }

  /** Closes the connection and stops reconnecting (the page is going away). */
  dispose(): void {
    this.client.close();
  }
}
