import type { SatteriFeatures } from '@astrojs/markdown-satteri';

/**
 * Markdown features for lessons (astro.config.mjs hands them to Sätteri). Smart punctuation
 * gives curly quotes and ellipses, but never turns `--` into an en dash: in this course `--` is
 * a command-line flag (`uvicorn --workers`, also in headings and so in the table of contents and
 * search), and authors type real dashes (— –) where they mean one. Code spans are never touched.
 */
export const markdownFeatures = {
  smartPunctuation: { quotes: true, ellipses: true, dashes: false },
} satisfies SatteriFeatures;
