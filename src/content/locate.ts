import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';

/** Where a field sits in a YAML (or JSON) text: its 1-based line, and whether the whole path was found. */
export interface Located {
  line: number;
  /** False when only a parent of the path exists (a missing field is reported at its parent). */
  exact: boolean;
}

/**
 * Finds the line of `path` (e.g. `['load', 0, 'path']`) in a YAML or JSON text (JSON is
 * YAML), so a schema error can be shown as `file:line`. The line is the key's, or the
 * item's for list entries; a path that does not exist resolves to its deepest existing
 * parent (line 1 when not even the first key exists). Never throws.
 */
export function locateField(text: string, path: readonly PropertyKey[]): Located {
  const lineCounter = new LineCounter();
  let doc;
  try {
    doc = parseDocument(text, { lineCounter });
  } catch {
    return { line: 1, exact: false };
  }
  let node: unknown = doc.contents;
  let line = 1;
  for (const segment of path) {
    let start: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return { line, exact: false };
      start = (pair.key as { range?: [number, number, number] }).range?.[0];
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as { range?: [number, number, number] } | undefined;
      if (!item) return { line, exact: false };
      start = item.range?.[0];
      node = item;
    } else return { line, exact: false };
    if (start !== undefined) line = lineCounter.linePos(start).line;
  }
  return { line, exact: true };
}

/** The 1-based line of the first `"key":` (JSON) or `key:` (YAML) in a text, when a path is unknown. */
export function findKeyLine(text: string, key: string): number | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^[ \\t]*(?:-[ \\t]*)?(?:"${escaped}"|${escaped})[ \\t]*:`, 'm').exec(text);
  return match ? text.slice(0, match.index).split('\n').length : undefined;
}
