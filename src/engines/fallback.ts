/**
 * When the hosted runner cannot take a run — its gateway does not answer, refuses the page,
 * says the reader is over a limit or the fleet is busy, or the connection closes before the
 * run started — the run goes to an in-browser engine that can run the sandbox, and the reader
 * is told why. A run that had started is never run again elsewhere: its program may have done
 * half its work, so it ends with its reason like any other.
 */
import type { Reason, ReasonCode } from '../protocol/reasons.ts';
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';
import type { Engine, EngineEvent, EngineId, RunOptions } from './engine.ts';

/** Why the primary engine did not run the code: it could not be reached, or it refused with a reason. */
export type FallbackCause = { kind: 'unreachable'; detail: string } | { kind: 'refused'; reason: Reason };

/** Reasons that mean "not now, not here" rather than "this code is wrong". */
const refusals: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['busy', 'rate-limit', 'fleet-unavailable', 'queue-limit', 'disconnected', 'isolation-unavailable']);

/** Whether `event`, the last of a run that had `started` (or not), sends the run elsewhere. */
export function fallbackCause(event: EngineEvent, started: boolean): FallbackCause | undefined {
  if (started) return undefined;
  if (event.type === 'error' && (event.code === 'runner-unreachable' || event.code === 'runner-unavailable')) return { kind: 'unreachable', detail: event.message };
  if (event.type === 'exit' && event.reason && refusals.has(event.reason.code)) return { kind: 'refused', reason: event.reason };
  return undefined;
}

/** Said between the two runs: from which engine to which, and why. */
export interface FallbackEvent {
  type: 'fallback';
  from: EngineId;
  to: EngineId;
  cause: FallbackCause;
}

/**
 * Runs on `primary`; if it gives up before starting (fallbackCause), says so and runs on
 * `fallback` instead. Without a fallback the primary's own last event stands.
 */
export async function* runWithFallback(
  primary: Engine,
  fallback: Engine | undefined,
  files: SandboxFiles,
  manifest: SandboxManifest,
  signal: AbortSignal,
  options: RunOptions = {},
): AsyncGenerator<EngineEvent | FallbackEvent> {
  let started = false;
  for await (const event of primary.run(files, manifest, signal, options)) {
    const last = event.type === 'exit' || event.type === 'error';
    const cause = last && fallback && !signal.aborted ? fallbackCause(event, started) : undefined;
    if (cause && fallback) {
      yield { type: 'fallback', from: primary.id, to: fallback.id, cause };
      yield* fallback.run(files, manifest, signal, { ...options, preview: false });
      return;
    }
    if (event.type === 'status' && event.state === 'running') started = true;
    if (event.type === 'stdout' || event.type === 'stderr' || event.type === 'trace' || event.type === 'ready') started = true;
    yield event;
  }
}
