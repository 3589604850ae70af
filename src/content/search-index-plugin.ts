import { defineHastPlugin } from 'satteri';

/** The fenced-block language lessons use for what a program printed (```text). */
export const outputLanguage = 'text';

/**
 * The language of a rendered code block: Shiki's `data-language` on the `<pre>`, or, before
 * highlighting, the `language-…` class of its `<code>`.
 */
export function blockLanguage(pre: { properties?: Record<string, unknown>; children?: readonly unknown[] }): string | undefined {
  const own = pre.properties?.dataLanguage;
  if (typeof own === 'string') return own;
  for (const child of pre.children ?? []) {
    const c = child as { type?: string; tagName?: string; properties?: { className?: unknown } };
    if (c.type !== 'element' || c.tagName !== 'code' || !Array.isArray(c.properties?.className)) continue;
    const cls = c.properties.className.find((name): name is string => typeof name === 'string' && name.startsWith('language-'));
    if (cls) return cls.slice('language-'.length);
  }
  return undefined;
}

/**
 * Sätteri hast plugin: a lesson's ```text blocks (what a run printed: times, probe lists, logs)
 * are left out of the search index with `data-pagefind-ignore`, so a search for "event loop"
 * shows prose, not "859 ms. 864 ms". Code in other languages stays searchable. It runs after
 * Astro's highlighter, which keeps the language on the `<pre>` as `data-language`.
 */
export function searchIndexPlugin() {
  return defineHastPlugin({
    name: 'asynclab:search-index',
    element: {
      filter: ['pre'],
      visit(node, ctx) {
        if (blockLanguage(node) === outputLanguage) ctx.setProperty(node, 'dataPagefindIgnore', '');
      },
    },
  });
}
