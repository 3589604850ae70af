/**
 * Chrome Trace Event JSON for Perfetto / chrome://tracing: one process, one thread per lane
 * (named by metadata events). Lanes whose spans overlap (requests, handlers) become async
 * `b`/`e` pairs with ids, which Perfetto stacks instead of mis-nesting. Instants go on their
 * lane's thread when it has one (messages on a request lane), else on the process (`ready`).
 */
import type { TraceModel } from './model.ts';

export interface ChromeTraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  id?: string;
  /** Instant scope: thread or process. */
  s?: 't' | 'p';
  args?: Record<string, unknown>;
}

export function toChromeTrace(model: TraceModel, title: string): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: 'ms' } {
  const pid = 1;
  const events: ChromeTraceEvent[] = [{ name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid, tid: 0, args: { name: title } }];
  const tids = new Map<string, number>();
  model.lanes.forEach((lane, index) => {
    const tid = index + 1;
    tids.set(lane.id, tid);
    events.push(
      { name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid, tid, args: { name: lane.id } },
      { name: 'thread_sort_index', cat: '__metadata', ph: 'M', ts: 0, pid, tid, args: { sort_index: index } },
    );
    const async = lane.kind === 'request' || lane.kind === 'handler';
    lane.spans.forEach((s, j) => {
      if (async) {
        const id = `${lane.id}#${j}`;
        events.push({ name: s.name, cat: s.cat, ph: 'b', ts: s.start, pid, tid, id, args: s.args }, { name: s.name, cat: s.cat, ph: 'e', ts: s.end, pid, tid, id });
      } else {
        events.push({ name: s.name, cat: s.cat, ph: 'X', ts: s.start, dur: s.end - s.start, pid, tid, args: s.args });
      }
    });
    for (const s of lane.runs) events.push({ name: `${s.name} (running)`, cat: s.cat, ph: 'X', ts: s.start, dur: s.end - s.start, pid, tid });
  });
  for (const i of model.instants) {
    const tid = tids.get(i.lane);
    events.push({ name: i.name, cat: i.cat, ph: 'i', ts: i.ts, pid, tid: tid ?? 0, s: tid ? 't' : 'p', args: i.args });
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
