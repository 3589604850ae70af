import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { langs } from './helpers.ts';

/** Issue 16, item 6: `uvicorn --workers` showed as "uvicorn –workers" (smart dashes). */
const dist = path.resolve(import.meta.dirname, '..', '..', 'dist');

function pages(dir = dist): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '_astro' || entry.name === 'pagefind' || entry.name === '_pyodide' ? [] : pages(full);
    return entry.name.endsWith('.html') ? [full] : [];
  });
}

test('no built page has an en dash glued to a flag-like word (–workers, –reload)', () => {
  const found: string[] = [];
  for (const file of pages()) {
    for (const [hit] of readFileSync(file, 'utf8').matchAll(/.{0,30}–[a-zA-Z][\w-]*/g)) found.push(`${path.relative(dist, file)}: ${hit}`);
  }
  expect(found).toEqual([]);
});

for (const lang of langs) {
  test(`${lang}: lesson 13 shows \`uvicorn --workers\` with two hyphens in its heading, table of contents and search`, async ({ page }) => {
    await page.goto(`/${lang}/lessons/running-it/`);
    const heading = page.locator('article h2', { hasText: 'workers' }).first();
    await expect(heading.locator('code')).toHaveText('uvicorn --workers');
    const toc = page.locator('nav.toc-aside a', { hasText: 'workers' }).first();
    await expect(toc).toContainText('uvicorn --workers');
    expect(await page.content()).not.toContain('–workers');

    await page.locator('[data-search-trigger]').click();
    await page.locator('pagefind-modal input').fill('workers');
    const chip = page.locator('pagefind-modal .pf-heading-link', { hasText: 'uvicorn' }).first();
    await expect(chip).toContainText('uvicorn --workers');
  });
}
