/**
 * The numbers a timeline is read by: wall time, busy time, peak concurrency per lane
 * kind, how long the event loop was blocked and by whom. Spans only: instants (messages)
 * change none of them.
 */
import type { Lane, LaneKind, Segment, TraceModel } from './model.ts';

export interface Block {
  ms: number;
  startMs: number;
  culprit: string;
}

export interface Summary {
  /** From the first to the last moment of the lesson's activity: requests if any, else tasks, else every span. */
  wallMs: number;
  /** Time spent in spans, summed per lane kind (tasks: the time they were actually running). */
  busyMs: Record<LaneKind, number>;
  /** Most spans of one kind in progress at the same moment. */
  peakConcurrency: Record<LaneKind, number>;
  lanes: Record<LaneKind, number>;
  /**
   * Total time callbacks held an event loop past the harness threshold, summed over every
   * loop lane: with one loop, how long it was blocked; with one loop per worker process
   * (`event loop w2 · pid 6`), the loop time lost across the workers, which can exceed the
   * wall time when several are blocked at once (`lanes.loop` says how many loops blocked).
   */
  loopBlockedMs: number;
  /** The longest single block on any loop. */
  longestBlock: Block | undefined;
  incomplete: boolean;
  garbage: number;
}

const kinds: LaneKind[] = ['request', 'handler', 'task', 'loop', 'thread', 'process', 'other'];
const ms = (us: number) => Math.round(us / 100) / 10;

/** Spans of lanes of one kind, optionally only those whose name contains `match`. */
export function spansOf(model: TraceModel, kind: LaneKind, match?: string): Segment[] {
  return model.lanes
    .filter((lane) => lane.kind === kind)
    .flatMap((lane) => lane.spans)
    .filter((s) => match === undefined || s.name.includes(match));
}

/** The largest number of spans overlapping at any moment (touching ends do not overlap). */
export function peakConcurrency(spans: Segment[]): number {
  const edges = spans.flatMap((s) => [
    { at: s.start, step: 1 },
    { at: s.end, step: -1 },
  ]);
  // Ends before starts at the same instant: back-to-back spans are not concurrent.
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let peak = 0;
  for (const edge of edges) {
    now += edge.step;
    peak = Math.max(peak, now);
  }
  return peak;
}

function extent(spans: Segment[]): number {
  if (!spans.length) return 0;
  return Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
}

function busyOf(lane: Lane): number {
  const segments = lane.kind === 'task' ? lane.runs : lane.spans;
  return segments.reduce((sum, s) => sum + (s.end - s.start), 0);
}

export function summarize(model: TraceModel): Summary {
  const busyMs = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<LaneKind, number>;
  const peak = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<LaneKind, number>;
  const lanes = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<LaneKind, number>;
  for (const lane of model.lanes) {
    busyMs[lane.kind] += busyOf(lane);
    lanes[lane.kind] += 1;
  }
  for (const kind of kinds) {
    busyMs[kind] = ms(busyMs[kind]);
    peak[kind] = peakConcurrency(spansOf(model, kind));
  }
  const blocks = spansOf(model, 'loop');
  const longest = blocks.reduce<Segment | undefined>((best, s) => (!best || s.end - s.start > best.end - best.start ? s : best), undefined);
  const requests = spansOf(model, 'request');
  const tasks = spansOf(model, 'task');
  const wallSpans = requests.length ? requests : tasks.length ? tasks : model.lanes.flatMap((l) => l.spans);
  return {
    wallMs: ms(extent(wallSpans)),
    busyMs,
    peakConcurrency: peak,
    lanes,
    loopBlockedMs: ms(blocks.reduce((sum, s) => sum + (s.end - s.start), 0)),
    longestBlock: longest
      ? { ms: ms(longest.end - longest.start), startMs: ms(longest.start), culprit: String(longest.args.culprit ?? longest.name) }
      : undefined,
    incomplete: model.incomplete,
    garbage: model.garbage,
  };
}

export interface GroupSummary {
  name: string;
  count: number;
  wallMs: number;
  peak: number;
}

/** Requests grouped by what they asked for (`GET /async-sleep`): how long each group took as a whole, and how much of it overlapped. */
export function requestGroups(model: TraceModel): GroupSummary[] {
  const groups = new Map<string, Segment[]>();
  for (const span of spansOf(model, 'request')) groups.set(span.name, [...(groups.get(span.name) ?? []), span]);
  return [...groups.entries()].map(([name, spans]) => ({ name, count: spans.length, wallMs: ms(extent(spans)), peak: peakConcurrency(spans) }));
}
