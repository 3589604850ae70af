/**
 * The only sandbox code a lesson page runs at load: it waits for the reader to come near a
 * sandbox and then loads the client (init.ts: engines, views, console). Near means a sandbox
 * scrolls into view, the pointer or keyboard focus enters one, or the reader has saved edits
 * in one (their code must replace the lesson's at once). A click that arrives while the client
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
  if (boxes.some((box) => hasSavedEdits(box.dataset.sandbox))) {
    void start();
    return;
  }
  const seen = new IntersectionObserver((entries) => {
    if (!entries.some((entry) => entry.isIntersecting)) return;
    seen.disconnect();
    void start();
  });
  for (const box of boxes) seen.observe(box);
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
