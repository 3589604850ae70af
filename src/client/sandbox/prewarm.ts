/**
 * Starts an in-browser engine (Pyodide's worker and interpreter) before the reader clicks
 * Run: when its sandbox comes within a screen or so of the viewport, or when the reader
 * points at or tabs to Run. Booting takes seconds of CPU; started while the reader reads,
 * it is done, or nearly, by the click. Pages whose sandboxes never come near the viewport
 * download nothing.
 */
import type { Engine } from '../../engines/engine.ts';

/** How far below (or above) the viewport a sandbox starts its engine: about one screen of reading. */
export const prewarmMargin = '100% 0px';

/**
 * Calls `prepare()` on the engine `root`'s sandbox uses (`root.dataset.engine`, which the
 * reader may change among `engines`) on the first sign the reader may run it: the sandbox
 * nears the viewport, or the reader points at or tabs to Run. The local runner needs no
 * preparing; switching to Pyodide and then pointing at Run still boots it early.
 */
export function prewarmOnApproach(root: HTMLElement, engines: readonly Engine[]): void {
  if (!engines.some((e) => e.prepare)) return;
  const controller = new AbortController();
  const fire = () => {
    const engine = engines.find((e) => e.id === root.dataset.engine);
    if (!engine?.prepare) return;
    observer?.disconnect();
    controller.abort();
    engine.prepare();
  };
  const observer =
    typeof IntersectionObserver === 'undefined'
      ? undefined
      : new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && fire(), { rootMargin: prewarmMargin });
  observer?.observe(root);
  const run = root.querySelector('[data-action="run"]');
  for (const type of ['pointerenter', 'focusin', 'touchstart'] as const) run?.addEventListener(type, fire, { signal: controller.signal, passive: true });
}
