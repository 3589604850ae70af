/**
 * Lazy site search. The header shows a light button; the first click (or `/`, or
 * Ctrl/Cmd+K) imports Pagefind's component UI and opens its modal. Pagefind loads
 * the index matching `<html lang>`, so each language searches only itself.
 */
import componentCss from '@pagefind/component-ui/css?url';

type PagefindModal = HTMLElement & { open(): void; isOpen?: boolean };

let modal: Promise<PagefindModal> | undefined;

function loadModal(): Promise<PagefindModal> {
  modal ??= (async () => {
    // A stylesheet imported by a script would be linked on every page up front; as a URL
    // it loads with the search. The site's colours for it are in global.css.
    await Promise.all([import('@pagefind/component-ui'), loadStylesheet(componentCss)]);
    const element = document.createElement('pagefind-modal') as PagefindModal;
    element.setAttribute('reset-on-close', '');
    document.body.append(element);
    await customElements.whenDefined('pagefind-modal');
    return element;
  })();
  return modal;
}

function loadStylesheet(href: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href });
    link.addEventListener('load', () => resolve(), { once: true });
    link.addEventListener('error', () => reject(new Error(`Could not load ${href}`)), { once: true });
    document.head.append(link);
  });
}

async function openSearch(): Promise<void> {
  const element = await loadModal();
  // The element renders on connect; give it a frame before opening.
  requestAnimationFrame(() => element.open());
}

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}

export function initSearch(): void {
  const triggers = document.querySelectorAll<HTMLButtonElement>('[data-search-trigger]');
  for (const trigger of triggers) {
    trigger.hidden = false;
    trigger.addEventListener('click', () => void openSearch());
    // Start fetching as soon as the reader shows intent.
    trigger.addEventListener('pointerenter', () => void loadModal(), { once: true });
  }
  document.addEventListener('keydown', (event) => {
    const shortcut = (event.key === 'k' && (event.metaKey || event.ctrlKey)) || (event.key === '/' && !isTyping(event.target));
    if (!shortcut || event.defaultPrevented) return;
    event.preventDefault();
    void openSearch();
  });
}
