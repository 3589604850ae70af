import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dist = path.resolve(import.meta.dirname, '..', '..', 'dist');

function pages(dir = dist): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '_astro' || entry.name === 'pagefind' ? [] : pages(full);
    return entry.name.endsWith('.html') ? [full] : [];
  });
}

/** The page a site URL points at in dist/, or undefined. */
function target(url: URL): string | undefined {
  const file = url.pathname.endsWith('/') ? path.join(dist, url.pathname, 'index.html') : path.join(dist, url.pathname);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

test('every internal link in the built site leads to a page, and every #fragment to an id on it', () => {
  const broken: string[] = [];
  for (const file of pages()) {
    const html = readFileSync(file, 'utf8');
    const base = new URL(`/${path.relative(dist, file).split(path.sep).join('/').replace(/index\.html$/, '')}`, 'http://site');
    for (const [, href] of html.matchAll(/<a [^>]*href="([^"]+)"/g)) {
      if (/^[a-z]+:/.test(href!) && !href!.startsWith('http://site')) continue; // external
      const url = new URL(href!.replace(/&amp;/g, '&'), base);
      const page = url.pathname === base.pathname ? html : target(url);
      if (page === undefined) broken.push(`${path.relative(dist, file)} → ${href}`);
      else if (url.hash && !page.includes(`id="${decodeURIComponent(url.hash.slice(1))}"`)) broken.push(`${path.relative(dist, file)} → ${href} (no such id)`);
    }
  }
  expect(broken).toEqual([]);
});

for (const { lang, query, expected } of [
  { lang: 'zh', query: '信号量', expected: '/zh/glossary/' },
  { lang: 'en', query: 'semaphore', expected: '/en/glossary/' },
]) {
  test(`${lang}: the glossary is found by search ("${query}")`, async ({ page }) => {
    await page.goto(`/${lang}/`);
    await page.locator('[data-search-trigger]').click();
    await page.locator('pagefind-modal input').fill(query);
    const results = page.locator('pagefind-modal pagefind-results a[href]');
    await expect(results.first()).toBeVisible();
    const hrefs = await results.evaluateAll((as) => as.map((a) => new URL((a as HTMLAnchorElement).href).pathname));
    expect(hrefs).toContain(expected);
  });
}
