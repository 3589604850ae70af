/**
 * Starts an in-browser engine (Pyodide's worker and interpreter) before the reader clicks
 * Run: when its sandbox comes within a screen or so of the viewport, or when the reader
 * points at or tabs to Run. Booting takes seconds of CPU; started while the reader reads,
 * it is done, or nearly, by the click. Pages whose sandboxes never come near the viewport
 * download nothing.
 */
import type { Engine } from '../../sandbox/engines/engine.ts';

/** How far below (or above) the viewport a sandbox starts its engine: about one screen of reading. */
export const prewarmMargin = '100% 0px';

/**
 * Calls `engine.prepare()` once, on the first sign the reader may run `root`'s sandbox
 * with it. `engine` is the engine the sandbox uses now (the reader may pick another
 * before then: `root.dataset.engine` says which is current).
 */
export function prewarmOnApproach(root: HTMLElement, engine: Engine): void {
  if (!engine.prepare) return;
  let done = false;
  const controller = new AbortController();
  const fire = () => {
    if (done || root.dataset.engine !== engine.id) return;
    done = true;
    observer?.disconnect();
    controller.abort();
    engine.prepare!();
  };
  const observer =
    typeof IntersectionObserver === 'undefined'
      ? undefined
      : new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && fire(), { rootMargin: prewarmMargin });
  observer?.observe(root);
  const run = root.querySelector('[data-action="run"]');
  for (const type of ['pointerenter', 'focusin', 'touchstart'] as const) run?.addEventListener(type, fire, { signal: controller.signal, passive: true });
}
