/**
 * The runner's WebSocket protocol at `/__runner?token=…` (JSON text frames).
 *
 * Client → runner
 *   { type: "run",  runId, manifest, files, preview? }
 *                                              start a run (manifest as in sandbox.json, files by path);
 *                                              `preview: true` (server sandboxes only): keep serving after
 *                                              the load, reachable through the preview proxy, until stop,
 *                                              the page leaves or limits.wallMsPreview
 *   { type: "stop", runId }                    stop it (ends with exit, reason "stopped")
 *
 * Runner → client (every run ends with exactly one `exit`)
 *   { type: "hello", protocol: 1, isolation: "bwrap" | "none", limits }
 *   { type: "queued",  runId, position }       1 = next to start; sent again as the queue moves
 *   { type: "started", runId }
 *   { type: "stdout" | "stderr", runId, data } text as it arrives (UTF-8, chunk boundaries arbitrary)
 *   { type: "trace",   runId, data }           one or more complete trace lines (NDJSON), untouched
 *   { type: "ready",   runId, port, preview? } a server sandbox is listening; its load starts now. With
 *                                              `preview`, `preview.path` is `/__runner/preview/<capability>/`:
 *                                              the run's server, for this connection's page only (README)
 *   { type: "exit",    runId, code, signal, durationMs, reason }   reason null for a normal end
 *   { type: "error",   reason }                a message that could not be tied to a run
 */
import { z } from 'astro/zod';
import type { Reason } from './reasons.ts';

export const protocolVersion = 1;

export { reconnectCloseCode } from './close-codes.ts';

export const runIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

export const clientMessage = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('run'),
      runId: z.string().regex(runIdPattern),
      manifest: z.unknown(),
      files: z.record(z.string(), z.string()),
      preview: z.boolean().optional(),
    })
    .strict(),
  z.object({ type: z.literal('stop'), runId: z.string().regex(runIdPattern) }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

export interface LimitsSummary {
  wallMsScript: number;
  wallMsServer: number;
  wallMsPreview: number;
  memoryBytes: number;
  outputBytes: number;
  sourceBytes: number;
  messageBytes: number;
}

/** What a single run reports, in order: queued*, started, (stdout|stderr|trace|ready)*, exit. */
export type RunEvent =
  | { type: 'queued'; position: number }
  | { type: 'started' }
  | { type: 'stdout'; data: string }
  | { type: 'stderr'; data: string }
  | { type: 'trace'; data: string }
  | { type: 'ready'; port: number; preview?: { path: string } }
  | { type: 'exit'; code: number | null; signal: string | null; durationMs: number; reason: Reason | null };

export type ServerMessage =
  | { type: 'hello'; protocol: number; isolation: 'bwrap' | 'none'; limits: LimitsSummary }
  | { type: 'error'; reason: Reason }
  | (RunEvent & { runId: string });
