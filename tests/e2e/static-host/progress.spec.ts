/**
 * Issue 19, progress as a reader meets it on a static host (no runner, no server of ours):
 * lessons opened are shown in the sidebar and on the home page, with a one-line summary,
 * in both languages; a lesson opened in another tab shows up without a reload; bad stored
 * data is tolerated; the reset forgets visits as well as challenges; axe on the marks.
 */
import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { collectErrors, lessonSources } from '../helpers.ts';

const lessons = lessonSources();
const [first, second, third] = lessons;
const progressKey = 'asynclab:progress';

const card = (page: Page, slug: string) => page.locator(`.course-list [data-lesson-link="${slug}"]`);
const sidebarLink = (page: Page, slug: string) => page.locator(`.lesson-sidebar [data-lesson-link="${slug}"]`);

async function axeViolations(page: Page, selector: string): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .include(selector)
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return results.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('en: lessons opened get a check in the sidebar and "Opened" on the home page, with a summary; the reset forgets them', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/en/');
  // A first visit: nothing to report, no reset to offer.
  await expect(page.locator('[data-course-summary]')).toBeHidden();
  await expect(page.locator('.course-list [data-visited-mark]:visible')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Reset progress' })).toBeHidden();

  await page.goto(`/en/lessons/${first!.slug}/`);
  await page.goto(`/en/lessons/${third!.slug}/`);
  // The sidebar: the two lessons opened carry the check, and say "Opened" to a screen reader.
  await expect(sidebarLink(page, first!.slug).locator('[data-visited-mark]')).toBeVisible();
  await expect(sidebarLink(page, third!.slug).locator('[data-visited-mark]')).toBeVisible();
  await expect(sidebarLink(page, second!.slug).locator('[data-visited-mark]')).toBeHidden();
  await expect(page.locator('.lesson-sidebar').getByRole('link', { name: new RegExp(`${first!.title.en}.*Opened`) })).toBeVisible();
  expect(await axeViolations(page, '.lesson-sidebar')).toEqual([]);

  await page.goto('/en/');
  await expect(card(page, first!.slug)).toContainText('✓ Opened');
  await expect(card(page, third!.slug)).toContainText('✓ Opened');
  await expect(card(page, second!.slug).locator('[data-visited-mark]')).toBeHidden();
  await expect(page.locator('[data-course-summary]')).toHaveText(new RegExp(`^You have opened 2 of ${lessons.length} lessons and done 0 of \\d+ challenges\\.$`));
  expect(await axeViolations(page, '#course-heading + .progress-summary, .course-list')).toEqual([]);

  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Reset progress' }).click();
  await expect(page.locator('[data-progress-status]')).toHaveText('Progress reset.');
  await expect(page.locator('.course-list [data-visited-mark]:visible')).toHaveCount(0);
  await expect(page.locator('[data-course-summary]')).toBeHidden();
  expect(await page.evaluate((key) => localStorage.getItem(key), progressKey)).toBeNull();
  expect(errors).toEqual([]);
});

test('zh: 已读 and the summary in Chinese; a lesson opened in another tab shows on the home page without a reload', async ({ page, context }) => {
  const errors = collectErrors(page);
  await page.goto('/zh/');
  await expect(page.locator('[data-course-summary]')).toBeHidden();

  const other = await context.newPage();
  await other.goto(`/zh/lessons/${second!.slug}/`);
  await expect(other.locator('[data-lesson]')).toBeVisible();
  await other.close();

  // The first tab heard it through the storage event.
  await expect(card(page, second!.slug)).toContainText('✓ 已读');
  await expect(page.locator('[data-course-summary]')).toHaveText(new RegExp(`^你已读过 1 / ${lessons.length} 节课，完成了 0 / \\d+ 个挑战。$`));
  await expect(page.getByRole('button', { name: '重置进度' })).toBeVisible();
  expect(errors).toEqual([]);
});

test('bad stored progress: broken JSON, another version and bad entries read as nothing (good entries kept), and the page still records visits', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/en/');
  const cases: Array<{ stored: string; opened: number }> = [
    { stored: '{"v":1,"visited":', opened: 0 },
    { stored: JSON.stringify({ v: 99, visited: { [first!.slug]: '2026-12-01T00:00:00.000Z' } }), opened: 0 },
    { stored: JSON.stringify({ v: 1, done: 7, visited: { [first!.slug]: '2026-12-01T00:00:00.000Z', [second!.slug]: 'yesterday', ['__proto__']: 'x', nope: 1 } }), opened: 1 },
  ];
  for (const { stored, opened } of cases) {
    await page.evaluate(([key, value]) => localStorage.setItem(key!, value!), [progressKey, stored]);
    await page.reload();
    await expect(page.locator('.course-list [data-visited-mark]:visible')).toHaveCount(opened);
    if (opened) await expect(card(page, first!.slug)).toContainText('✓ Opened');
  }
  // Opening a lesson over a bad record replaces it with a good one.
  await page.evaluate((key) => localStorage.setItem(key, '[[[not json'), progressKey);
  await page.goto(`/en/lessons/${third!.slug}/`);
  await page.goto('/en/');
  await expect(card(page, third!.slug)).toContainText('✓ Opened');
  const saved = JSON.parse((await page.evaluate((key) => localStorage.getItem(key), progressKey))!) as { v: number; visited: Record<string, string> };
  expect(saved.v).toBe(1);
  expect(Object.keys(saved.visited)).toEqual([third!.slug]);
  expect(errors).toEqual([]);
});
