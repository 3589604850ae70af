/**
 * The trace model (DESIGN §6–7): harness events in, lanes of segments out. Pure, no DOM,
 * so the page, the build (recorded timelines) and CI (expect checks) share it.
 *
 * Events are NDJSON objects close to the Chrome Trace Event Format: `ts` µs since the run
 * started, `ph` X (complete, with `dur`) or B/E (begin/end on one lane) or i (instant),
 * `lane`, `cat`, `name`, `args`. Anything else is counted as garbage and skipped; a begin
 * without its end (a run killed mid-way) becomes an open segment up to the last moment
 * the trace knows, and the model says it is incomplete.
 *
 * Lanes come from spans only. An instant is kept in `instants` (and exported to Perfetto)
 * and is also attached to its lane when that lane has spans and the instant is not the
 * harness's own (cat `harness`, e.g. `ready` on lane `server`): instants annotate a lane,
 * such as the messages a stream client received on its request lane, and never create one.
 *
 * `event loop` is the loop lane; `event loop <suffix>` (`event loop w2 · pid 6`, one per
 * gunicorn worker process) is a loop lane too, labelled by its suffix.
 */

export type LaneKind = 'request' | 'handler' | 'task' | 'loop' | 'thread' | 'process' | 'other';

export interface TraceEvent {
  ts: number;
  ph: 'X' | 'B' | 'E' | 'i';
  dur?: number;
  lane: string;
  cat: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface Segment {
  lane: string;
  cat: string;
  name: string;
  /** µs since the run started */
  start: number;
  end: number;
  args: Record<string, unknown>;
  /** Began but never ended: the run stopped first. */
  open?: true;
}

export interface Instant {
  lane: string;
  cat: string;
  name: string;
  ts: number;
  args: Record<string, unknown>;
}

export interface Lane {
  id: string;
  kind: LaneKind;
  /** The lane name without its kind prefix (`request 3` → `3`, `task fetch` → `fetch`). */
  label: string;
  /** Main spans: a request, a handler, a task's lifetime, a work item, a loop block. */
  spans: Segment[];
  /** For task lanes: the moments the task was actually running on the loop. */
  runs: Segment[];
  /** Instants on this lane (messages a stream client sent or received), in time order. */
  instants: Instant[];
}

export interface TraceModel {
  lanes: Lane[];
  instants: Instant[];
  /** Lines that were not trace events. */
  garbage: number;
  /** Some span never ended (the run was killed or is still going). */
  incomplete: boolean;
  /** The last moment the trace knows of, µs. */
  endUs: number;
  /**
   * The first traced activity (the earliest span or task step), µs; 0 when nothing was
   * traced. Drawings start their axis here: the time before it is the process starting
   * (interpreter, imports, server start-up), told as a note rather than drawn as empty space.
   */
  startUs: number;
}

// The event loop first: it is where the eye starts, and what most lessons are about.
const kindOrder: LaneKind[] = ['loop', 'request', 'handler', 'task', 'thread', 'process', 'other'];

const LOOP = 'event loop';

export function laneKind(lane: string): LaneKind {
  if (lane === LOOP || lane.startsWith(`${LOOP} `)) return 'loop';
  const prefix = lane.split(' ')[0];
  if (prefix === 'request' || prefix === 'handler' || prefix === 'task' || prefix === 'thread' || prefix === 'process') return prefix;
  return 'other';
}

/** `request 3` → `3`; `event loop w2 · pid 6` → `w2 · pid 6`; the one `event loop` keeps its name. */
function laneLabel(lane: string, kind: LaneKind): string {
  if (kind === 'other' || lane === LOOP) return lane;
  if (kind === 'loop') return lane.slice(LOOP.length + 1);
  return lane.slice(lane.indexOf(' ') + 1);
}

/** Is this instant drawn on its lane? Not the harness's own (`ready` on lane `server`). */
export function isLaneInstant(instant: Instant): boolean {
  return instant.cat !== 'harness';
}

/** One parsed event, or undefined for anything that is not one. */
export function parseEvent(line: string): TraceEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const e = value as Record<string, unknown>;
  const ph = e.ph;
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || typeof e.lane !== 'string' || typeof e.name !== 'string') return undefined;
  if (ph !== 'X' && ph !== 'B' && ph !== 'E' && ph !== 'i') return undefined;
  if (ph === 'X' && (typeof e.dur !== 'number' || e.dur < 0)) return undefined;
  return {
    ts: e.ts,
    ph,
    ...(typeof e.dur === 'number' ? { dur: e.dur } : {}),
    lane: e.lane,
    cat: typeof e.cat === 'string' ? e.cat : 'other',
    name: e.name,
    ...(e.args && typeof e.args === 'object' ? { args: e.args as Record<string, unknown> } : {}),
  };
}

/** Accumulates trace text as it streams in (chunks may split lines) and builds the model on demand. */
export class TraceBuilder {
  private readonly lanes = new Map<string, Lane>();
  private readonly open = new Map<string, Segment[]>();
  private readonly instants: Instant[] = [];
  private remainder = '';
  private garbage = 0;
  private lastTs = 0;

  /** Adds raw side-channel text (one or more lines, possibly a partial last line). */
  addText(text: string): void {
    const parts = (this.remainder + text).split('\n');
    this.remainder = parts.pop() ?? '';
    for (const line of parts) this.addLine(line);
  }

  addLine(line: string): void {
    if (!line.trim()) return;
    const event = parseEvent(line);
    if (event) this.addEvent(event);
    else this.garbage += 1;
  }

  addEvent(e: TraceEvent): void {
    const end = e.ph === 'X' ? e.ts + (e.dur ?? 0) : e.ts;
    this.lastTs = Math.max(this.lastTs, end);
    const args = e.args ?? {};
    if (e.ph === 'i') {
      this.instants.push({ lane: e.lane, cat: e.cat, name: e.name, ts: e.ts, args });
      return;
    }
    const lane = this.lane(e.lane);
    if (e.ph === 'X') {
      const segment = { lane: e.lane, cat: e.cat, name: e.name, start: e.ts, end, args };
      (e.cat === 'task-run' ? lane.runs : lane.spans).push(segment);
      return;
    }
    const stack = this.open.get(e.lane) ?? [];
    if (e.ph === 'B') {
      const segment: Segment = { lane: e.lane, cat: e.cat, name: e.name, start: e.ts, end: e.ts, args, open: true };
      stack.push(segment);
      this.open.set(e.lane, stack);
      lane.spans.push(segment);
      return;
    }
    // E closes the innermost open span of the lane; an E without a B is garbage.
    const segment = stack.pop();
    if (!segment) {
      this.garbage += 1;
      return;
    }
    segment.end = Math.max(segment.start, e.ts);
    Object.assign(segment.args, args);
    delete segment.open;
  }

  private lane(id: string): Lane {
    let lane = this.lanes.get(id);
    if (!lane) {
      const kind = laneKind(id);
      lane = { id, kind, label: laneLabel(id, kind), spans: [], runs: [], instants: [] };
      this.lanes.set(id, lane);
    }
    return lane;
  }

  /**
   * A snapshot of the trace so far. Open spans reach to `nowUs` (the live edge while a run
   * streams, or the end of a run that was killed), default the last moment the trace knows.
   */
  model(nowUs = this.lastTs): TraceModel {
    if (this.remainder) {
      // A final line without its newline still counts.
      const line = this.remainder;
      this.remainder = '';
      this.addLine(line);
    }
    const endUs = Math.max(nowUs, this.lastTs);
    let incomplete = false;
    const onLane = new Map<string, Instant[]>();
    for (const instant of this.instants) {
      if (!this.lanes.has(instant.lane) || !isLaneInstant(instant)) continue;
      const list = onLane.get(instant.lane) ?? [];
      list.push({ ...instant });
      onLane.set(instant.lane, list);
    }
    const lanes = [...this.lanes.values()].map((lane) => ({
      ...lane,
      spans: lane.spans.map((s) => {
        if (!s.open) return { ...s };
        incomplete = true;
        return { ...s, end: Math.max(s.start, endUs) };
      }),
      runs: lane.runs.map((s) => ({ ...s })),
      instants: (onLane.get(lane.id) ?? []).sort((a, b) => a.ts - b.ts),
    }));
    lanes.sort((a, b) => kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind) || firstStart(a) - firstStart(b) || naturalCompare(a.label, b.label));
    const first = Math.min(...lanes.map(firstStart));
    const startUs = Number.isFinite(first) && first < Number.MAX_SAFE_INTEGER ? Math.min(first, endUs) : 0;
    return { lanes, instants: [...this.instants], garbage: this.garbage, incomplete, endUs, startUs };
  }
}

/** The lane's earliest span or task step, µs (MAX_SAFE_INTEGER for a lane with neither). */
export function firstStart(lane: Lane): number {
  return Math.min(...lane.spans.map((s) => s.start), ...lane.runs.map((s) => s.start), Number.MAX_SAFE_INTEGER);
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The whole trace at once: text (NDJSON) or lines. */
export function buildModel(trace: string | string[], nowUs?: number): TraceModel {
  const builder = new TraceBuilder();
  if (typeof trace === 'string') builder.addText(trace.endsWith('\n') ? trace : `${trace}\n`);
  else for (const line of trace) builder.addLine(line);
  return builder.model(nowUs);
}
