/**
 * Lazy site search. The header shows a light button; the first click (or `/`, or
 * Ctrl/Cmd+K) imports Pagefind's component UI and opens its modal. Pagefind loads
 * the index matching `<html lang>`, so each language searches only itself.
 */
import componentCss from '@pagefind/component-ui/css?url';
import type { PagefindResultData, PagefindSearchResult } from '@pagefind/component-ui';
import { cleanExcerpt } from './search-excerpt.ts';

type PagefindModal = HTMLElement & { open(): void; isOpen?: boolean };

let modal: Promise<PagefindModal> | undefined;

function loadModal(): Promise<PagefindModal> {
  modal ??= (async () => {
    // A stylesheet imported by a script would be linked on every page up front; as a URL
    // it loads with the search. The site's colours for it are in global.css.
    const [ui] = await Promise.all([import('@pagefind/component-ui'), loadStylesheet(componentCss)]);
    // Registered before the modal's own components, so its results already carry clean snippets.
    ui.getInstanceManager().getInstance('default').on('results', (results) => tidySnippets(results as PagefindSearchResult));
    const element = document.createElement('pagefind-modal') as PagefindModal;
    element.setAttribute('reset-on-close', '');
    document.body.append(element);
    await customElements.whenDefined('pagefind-modal');
    return element;
  })();
  return modal;
}

/** Results' data, once cleaned: Pagefind may hand the same object out again, and cleaning twice would escape twice. */
const tidied = new WeakSet<PagefindResultData>();

/** Makes each result's `data()` give snippets that start at a sentence (see search-excerpt.ts). */
function tidySnippets(search: PagefindSearchResult): void {
  for (const result of search.results) {
    const load = result.data;
    result.data = async () => {
      const data = await load.call(result);
      if (tidied.has(data)) return data;
      tidied.add(data);
      const content = data.content ?? '';
      data.excerpt = cleanExcerpt(data.excerpt, content);
      for (const sub of data.sub_results ?? []) sub.excerpt = cleanExcerpt(sub.excerpt, content);
      return data;
    };
  }
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
