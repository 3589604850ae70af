/**
 * Turns callbacks (WebSocket messages, worker messages) into the async stream an engine's
 * `run` returns: `push` from the callback side, `drain()` from the generator. The stream
 * ends after its last event (an `exit` or an `error`) has been taken.
 */
import type { EngineEvent } from './engine.ts';

export class EventQueue {
  private readonly events: EngineEvent[] = [];
  private wake: (() => void) | undefined;
  /** True once the last event has been pushed. */
  ended = false;

  push(event: EngineEvent): void {
    this.events.push(event);
    if (event.type === 'exit' || event.type === 'error') this.ended = true;
    this.wake?.();
  }

  async *drain(): AsyncGenerator<EngineEvent> {
    while (!this.ended || this.events.length) {
      if (!this.events.length) await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
      while (this.events.length) yield this.events.shift()!;
    }
  }
}
