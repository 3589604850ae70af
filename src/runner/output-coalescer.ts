/**
 * Joins a run's stdout/stderr chunks into fewer events. A program printing one line at a
 * time reaches the runner as one pipe chunk per line: 150,000 WebSocket messages for a
 * 1 MiB flood, each one a task on the reading page. Held for at most `delayMs` (or until
 * `maxChars` are waiting), the same text goes out in a few hundred messages.
 *
 * Order is kept exactly: consecutive chunks of one stream are joined; a chunk of the other
 * stream, or any other event (trace, ready, exit), first sends what is waiting.
 */
import type { RunEvent } from '../protocol/messages.ts';

export interface CoalescerOptions {
  /** Longest a chunk waits for company (ms). */
  delayMs?: number;
  /** Send at once when this many characters are waiting. */
  maxChars?: number;
}

type OutputEvent = Extract<RunEvent, { type: 'stdout' | 'stderr' }>;

function isOutput(event: RunEvent): event is OutputEvent {
  return event.type === 'stdout' || event.type === 'stderr';
}

/** Wraps `emit` so output events are joined; the returned function takes every event of the run. */
export function coalesceOutput(emit: (event: RunEvent) => void, { delayMs = 10, maxChars = 64 * 1024 }: CoalescerOptions = {}): (event: RunEvent) => void {
  let pending: { type: OutputEvent['type']; parts: string[]; chars: number } | undefined;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const { type, parts } = pending;
    pending = undefined;
    emit({ type, data: parts.join('') });
  };

  return (event) => {
    if (!isOutput(event)) {
      flush();
      emit(event);
      return;
    }
    if (pending && pending.type !== event.type) flush();
    pending ??= { type: event.type, parts: [], chars: 0 };
    pending.parts.push(event.data);
    pending.chars += event.data.length;
    if (pending.chars >= maxChars) flush();
    else timer ??= setTimeout(flush, delayMs);
  };
}
