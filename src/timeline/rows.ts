/**
 * Which rows a timeline draws, in which order, under which names: pure, so the page, the
 * build and the tests agree. Lanes come from the model already ordered (event loop first);
 * here many similar lanes (twenty `GET /health` probes, five `sync_sleep` work items) fold
 * into one group row that the reader can open, so the lanes a lesson is about stay on screen.
 */
import type { Lane, LaneKind } from './model.ts';

/** A chart with more rows than this folds its groups. */
export const MAX_ROWS = 12;
/** Fewer similar lanes than this are drawn one by one even in a folded chart. */
export const MIN_GROUP = 4;

export interface LaneGroup {
  /** Same kind and the same name the code uses: `request\u0000GET /health`. */
  key: string;
  kind: LaneKind;
  /** The shared name: the request path, the function a thread ran, the task's function. */
  name: string;
  lanes: Lane[];
}

export type ChartRow = { type: 'lane'; lane: Lane } | { type: 'group'; group: LaneGroup };

/** The one name every span of the lane has (the request's `GET /health`), if they share one. */
export function commonSpanName(lane: Lane): string | undefined {
  const names = new Set(lane.spans.map((s) => s.name));
  return names.size === 1 ? [...names][0] : undefined;
}

/**
 * The name a lane goes by in the code: a request or handler by its path (`GET /health`),
 * a thread or process lane by the function it ran when it ran only one, a task by its
 * lane label (the name the reader gave it, else its coroutine's function). Loop and
 * other lanes keep their label. Repeats (`worker#2`) drop their counter: the group's name.
 */
export function codeName(lane: Lane): string {
  const shared = commonSpanName(lane);
  if ((lane.kind === 'request' || lane.kind === 'handler') && shared) return shared;
  if ((lane.kind === 'thread' || lane.kind === 'process') && shared) return shared;
  if (lane.kind === 'task') return lane.label.replace(/#\d+$/, '');
  return lane.label;
}

function keyOf(lane: Lane): string | undefined {
  // Each loop is its own story, and so is a client whose messages are drawn on its lane.
  if (lane.kind === 'loop' || lane.kind === 'other' || lane.instants.length) return undefined;
  return `${lane.kind}\u0000${codeName(lane)}`;
}

/**
 * The rows to draw: every lane with something on it, in model order; when there are more
 * than `maxRows`, each set of at least `minGroup` lanes of one kind and one code name
 * becomes a group row; if that still leaves too many rows, smaller sets fold too (down to
 * pairs), so a chart of many three-request endpoints folds like one of twenty probes.
 */
export function chartRows(lanes: Lane[], maxRows = MAX_ROWS, minGroup = MIN_GROUP): ChartRow[] {
  let rows = foldedRows(lanes, maxRows, minGroup);
  for (let size = minGroup - 1; size >= 2 && rows.length > maxRows; size -= 1) rows = foldedRows(lanes, maxRows, size);
  return rows;
}

/**
 * Every lane with something on it, in model order; when there are more
 * than `maxRows`, each set of at least `minGroup` lanes of one kind and one code name
 * becomes a group row, after the single lanes of its kind: the one `GET /report` the lesson
 * is about reads before the twenty probes around it.
 */
function foldedRows(lanes: Lane[], maxRows: number, minGroup: number): ChartRow[] {
  const drawn = lanes.filter((l) => l.spans.length || l.runs.length);
  if (drawn.length <= maxRows) return drawn.map((lane) => ({ type: 'lane', lane }));
  const byKey = new Map<string, Lane[]>();
  for (const lane of drawn) {
    const key = keyOf(lane);
    if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), lane]);
  }
  const rows: ChartRow[] = [];
  const placed = new Set<string>();
  for (const lane of drawn) {
    const key = keyOf(lane);
    const members = key === undefined ? undefined : byKey.get(key);
    if (!key || !members || members.length < minGroup) {
      rows.push({ type: 'lane', lane });
      continue;
    }
    if (placed.has(key)) continue;
    placed.add(key);
    rows.push({ type: 'group', group: { key, kind: lane.kind, name: codeName(lane), lanes: members } });
  }
  const kindRank = new Map<LaneKind, number>();
  for (const lane of drawn) if (!kindRank.has(lane.kind)) kindRank.set(lane.kind, kindRank.size);
  const rank = (row: ChartRow) => (kindRank.get(row.type === 'lane' ? row.lane.kind : row.group.kind) ?? 0) * 2 + (row.type === 'group' ? 1 : 0);
  return rows.map((row, i) => ({ row, i })).sort((a, b) => rank(a.row) - rank(b.row) || a.i - b.i).map(({ row }) => row);
}
