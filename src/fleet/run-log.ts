/**
 * One JSON line per run, from the gateway and from the node (issue 18, Operations):
 *   {"ts":"…","log":"run","from":"node","run":"…","sandbox":"…","node":"…","client":"…",
 *    "queueWaitMs":12,"durationMs":840,"exit":"normal"}
 *
 * Why every field is checked against a closed shape instead of serialising what the caller hands
 * in: the run's data sits right next to these fields (RunJobData carries the reader's files, the
 * exit event's reason carries sentences built from the run), and a log is kept longer and read by
 * more people than a run. So the line is built field by field from identifiers that match their
 * patterns, numbers and reason codes; anything else is replaced by "invalid", never copied. No
 * source, output, reason message or client address can reach it, whatever the caller passes.
 */
import { sandboxIdPattern } from '../protocol/manifest.ts';
import { reasonCodes, type ReasonCode } from '../protocol/reasons.ts';
import { fleetRunIdPattern, type RunJobData } from './contract.ts';

export interface RunLogEntry {
  /** Which side wrote the line: a gateway sees queue wait and end, a node sees the run itself. */
  from: 'gateway' | 'node';
  runId: string;
  /** The manifest's id (lowercase words joined by dashes). */
  sandbox: string;
  /** The node that ran it; null when it never reached one (refused, stopped while queued). */
  node: string | null;
  /** The salted client hash (client-address.ts), never the address. */
  client: string;
  queueWaitMs: number | null;
  durationMs: number | null;
  /** The exit reason's code, or null for a run that ended by itself. */
  exit: ReasonCode | null;
}

const invalid = 'invalid';
const nodeIdPattern = /^[A-Za-z0-9_.:-]{1,64}$/;
const clientHashPattern = /^[A-Za-z0-9_-]{1,43}$/;

function matching(value: unknown, pattern: RegExp, max: number): string {
  return typeof value === 'string' && value.length <= max && pattern.test(value) ? value : invalid;
}

function milliseconds(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
}

/** The manifest id of an untrusted manifest, or "invalid". */
export function sandboxIdOf(manifest: unknown): string {
  const id = typeof manifest === 'object' && manifest !== null ? (manifest as { id?: unknown }).id : undefined;
  return matching(id, sandboxIdPattern, 80);
}

/** The log line for one run (no trailing newline). */
export function runLogLine(entry: RunLogEntry, now: Date = new Date()): string {
  const exit = entry.exit === null ? 'normal' : (reasonCodes as readonly string[]).includes(entry.exit) ? entry.exit : invalid;
  return JSON.stringify({
    ts: now.toISOString(),
    log: 'run',
    from: entry.from === 'gateway' || entry.from === 'node' ? entry.from : invalid,
    run: matching(entry.runId, fleetRunIdPattern, 150),
    sandbox: matching(entry.sandbox, sandboxIdPattern, 80),
    node: entry.node === null ? null : matching(entry.node, nodeIdPattern, 64),
    client: matching(entry.client, clientHashPattern, 43),
    queueWaitMs: milliseconds(entry.queueWaitMs),
    durationMs: milliseconds(entry.durationMs),
    exit,
  });
}

/** The entry for a run from its job and how it went (what both the node and the gateway know). */
export function runLogEntry(
  from: RunLogEntry['from'],
  job: Pick<RunJobData, 'runId' | 'manifest' | 'client' | 'submittedAt'>,
  outcome: { node: string | null; startedAt: number | null; durationMs: number | null; exit: ReasonCode | null },
): RunLogEntry {
  return {
    from,
    runId: job.runId,
    sandbox: sandboxIdOf(job.manifest),
    node: outcome.node,
    client: job.client,
    queueWaitMs: outcome.startedAt === null ? null : outcome.startedAt - job.submittedAt,
    durationMs: outcome.durationMs,
    exit: outcome.exit,
  };
}

/** Writes the line to stdout (where a container's logs are collected), one write so lines never interleave. */
export function writeRunLog(entry: RunLogEntry, out: { write(text: string): unknown } = process.stdout): void {
  out.write(`${runLogLine(entry)}\n`);
}
