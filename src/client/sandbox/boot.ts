/**
 * The only sandbox code a lesson page runs at load: it waits for the reader to come near a
 * sandbox and then loads the client (init.ts: engines, views, console). Near means a sandbox
 * is in view once the reader scrolls or moves (not merely at load), the pointer or keyboard
 * focus enters one, the reader has saved edits in one, or the address carries shared code
 * (their code must replace the lesson's at once). A click that arrives while the client
 * loads (Run, Edit, the code) is replayed once it is wired, so nothing the reader does is lost.
 */
const storageKey = (id: string) => `asynclab:sandbox:${id}`;

function hasSavedEdits(id: string | undefined): boolean {
  try {
    return !!id && !!localStorage.getItem(storageKey(id));
  } catch {
    return false;
  }
}

let started: Promise<void> | undefined;

export function bootSandboxes(): void {
  const boxes = [...document.querySelectorAll<HTMLElement>('[data-sandbox]')];
  if (!boxes.length) return;
  const pending: HTMLElement[] = [];
  const start = () =>
    (started ??= import('./init.ts').then(({ initSandboxes }) => {
      initSandboxes();
      for (const target of pending.splice(0)) target.click();
    }));
  // Saved edits, or shared code in the address (#share=…): the reader's code must show at once.
  if (location.hash.startsWith('#share=') || boxes.some((box) => hasSavedEdits(box.dataset.sandbox))) {
    void start();
    return;
  }
  // In view counts once the reader has done something on the page (scrolled, moved the pointer,
  // pressed a key, touched): a sandbox that merely sits in the first screen at load costs a
  // visitor who only reads nothing, and the first sign of a reader loads it, well before a click.
  const visible = new Set<Element>();
  let active = false;
  const inputs = new AbortController();
  const seen = new IntersectionObserver((entries) => {
    for (const entry of entries) (entry.isIntersecting ? visible.add(entry.target) : visible.delete(entry.target));
    startIfSeen();
  });
  const startIfSeen = () => {
    if (!active || !visible.size) return;
    seen.disconnect();
    inputs.abort();
    void start();
  };
  for (const box of boxes) seen.observe(box);
  for (const type of ['scroll', 'wheel', 'pointermove', 'pointerdown', 'keydown', 'touchstart']) {
    addEventListener(
      type,
      () => {
        active = true;
        startIfSeen();
      },
      { passive: true, capture: true, signal: inputs.signal },
    );
  }
  const inUnwired = (target: EventTarget | null) => (target instanceof Element ? target.closest<HTMLElement>('[data-sandbox]:not([data-wired])') : null);
  for (const type of ['pointerover', 'focusin', 'touchstart']) {
    document.addEventListener(type, (event) => void (inUnwired(event.target) && start()), { passive: true, capture: true });
  }
  document.addEventListener(
    'click',
    (event) => {
      const target = event.target instanceof Element ? event.target.closest<HTMLElement>('button, pre') : null;
      if (!target || !inUnwired(target)) return;
      pending.push(target);
      void start();
    },
    { capture: true },
  );
}
