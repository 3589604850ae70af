import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { langs, lessonSources } from './helpers.ts';

const pages = langs.flatMap((lang) => [`/${lang}/`, ...lessonSources().map((l) => `/${lang}/lessons/${l.slug}/`)]);

for (const scheme of ['light', 'dark'] as const) {
  for (const url of ['/', ...pages]) {
    test(`axe: no serious or critical violations on ${url} (${scheme})`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(url);
      const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
      const serious = results.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
      expect(serious).toEqual([]);
    });
  }
}
