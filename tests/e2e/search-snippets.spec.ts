import { test, expect, type Page } from '@playwright/test';
import { startsSentence } from '../../src/client/search-excerpt.ts';
import { collectErrors } from './helpers.ts';

/**
 * Search shows prose, not sandbox data: no timeline figures ("859 ms. 864 ms"), no run
 * summaries, no ```text outputs; and each snippet starts at a sentence or says with "…" that it
 * does not (Pagefind's window otherwise starts a few words, or in Chinese a few characters, in).
 */
const queries = [
  { lang: 'en', query: 'event loop', starts: { '/en/lessons/async-def-vs-def/': 'async def or def' } },
  { lang: 'en', query: 'blocking', starts: { '/en/lessons/blocking-the-loop/': 'The bug that freezes everyone' } },
  { lang: 'zh', query: '事件循环', starts: { '/zh/lessons/blocking-the-loop/': '让所有人卡住的 bug' } },
  { lang: 'zh', query: '线程池', starts: {} },
  { lang: 'en', query: 'ASGITransport', starts: { '/en/lessons/testing-async-code/': 'Calling the app without a server' } },
  { lang: 'zh', query: '测试', starts: { '/zh/lessons/testing-async-code/': '测试异步代码' } },
  { lang: 'en', query: 'ContextVar', starts: { '/en/lessons/context-and-threads/': 'A value per request: ContextVar' } },
  { lang: 'zh', query: '上下文', starts: { '/zh/lessons/context-and-threads/': '上下文，以及同步与异步之间的往来' } },
] as const;

/** Timeline text as it leaked before: figures one after another, lane labels, the run summary. */
const timelineText = [
  /\d+(\.\d+)? ?(ms|s|毫秒|秒)\. \d+(\.\d+)? ?(ms|s|毫秒|秒)/,
  /event loop blocked\. /,
  /事件循环阻塞\. /,
  /wall time|总耗时/,
  /Show the timeline as a table|以表格形式查看时间线/,
];

interface Shown {
  href: string;
  text: string;
}

async function search(page: Page, lang: string, query: string): Promise<Shown[]> {
  await page.goto(`/${lang}/`);
  await page.locator('[data-search-trigger]').click();
  await page.locator('pagefind-modal input').fill(query);
  // Results render lazily over skeleton placeholders (which share the excerpt class).
  const excerpts = page.locator('pagefind-modal :is(.pf-result-excerpt, .pf-heading-excerpt):not(.pf-skeleton)');
  await expect(excerpts.nth(2)).toBeVisible();
  return excerpts.evaluateAll((els) =>
    els.map((el) => ({
      href: new URL((el.closest('li')?.querySelector('a[href]') as HTMLAnchorElement).href).pathname,
      text: el.textContent ?? '',
    })),
  );
}

/** The text Pagefind indexed for each page that matches, from its own API in the page. */
async function indexedTexts(page: Page, query: string): Promise<Record<string, string>> {
  return page.evaluate(async (q) => {
    const pagefind = await import(/* @vite-ignore */ `${location.origin}/pagefind/pagefind.js`);
    const found = await pagefind.search(q);
    const out: Record<string, string> = {};
    for (const r of found.results) {
      const data = await r.data();
      out[new URL(data.url, location.href).pathname] = data.content;
    }
    return out;
  }, query);
}

for (const { lang, query, starts } of queries) {
  test(`${lang}: search snippets for "${query}" are prose that starts at a sentence`, async ({ page }) => {
    const errors = collectErrors(page);
    const shown = await search(page, lang, query);
    const texts = await indexedTexts(page, query);
    for (const { href, text } of shown) {
      for (const pattern of timelineText) expect(text, `${href}: ${text}`).not.toMatch(pattern);
      if (text.startsWith('…')) continue;
      // Found in the page's indexed text, at the start of a sentence.
      const body = text.replace(/\s*…$/, '');
      const content = texts[href.replace(/#.*$/, '')] ?? '';
      const at = content.indexOf(body);
      expect(at, `"${body.slice(0, 40)}" is in ${href}'s indexed text`).toBeGreaterThanOrEqual(0);
      expect(startsSentence(content, at), `${href}: "${content.slice(Math.max(0, at - 20), at)}|${body.slice(0, 30)}"`).toBe(true);
    }
    for (const [href, start] of Object.entries(starts)) {
      const first = shown.find((s) => s.href === href);
      expect(first, `a result for ${href}`).toBeTruthy();
      expect(first!.text.startsWith(start), first!.text).toBe(true);
    }
    expect(errors).toEqual([]);
  });
}
