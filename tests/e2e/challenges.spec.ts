/**
 * Issue 19, in the browser: a reader solves a challenge end to end on the local runner —
 * predicts, types the fix into Monaco with real keystrokes, runs, sees the goal's checklist
 * turn green in the page's language, reloads and finds it still done; opens hints one at a
 * time and the solution's diff, applies it; shares the code and opens the link in a fresh
 * context (without losing their own saved edits there); axe on the new parts; a phone.
 */
import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { collectErrors, typeOver } from './helpers.ts';

const lesson = (lang: 'en' | 'zh') => `/${lang}/lessons/why-async/`;
const sandbox = 'why-async-concurrent';
const editsKey = `asynclab:sandbox:${sandbox}`;

const boxOf = (page: Page) => page.locator(`[data-sandbox="${sandbox}"]`);
const challengeOf = (page: Page) => boxOf(page).locator('[data-challenge="slow-database"]');

/** Replaces the query's 0.200 with 1.500 as a reader would: find it (Ctrl+F), close the finder, type over the match. */
async function typeFix(page: Page): Promise<void> {
  const box = boxOf(page);
  await box.getByRole('button', { name: /^(Edit|编辑)$/ }).click();
  await expect(box).toHaveAttribute('data-editor', 'ready');
  await typeOver(page, box, '0.200', '1.500');
  await expect(box.locator('.monaco-editor .view-lines')).toContainText('asyncio.sleep(1.500)');
}

async function axeOn(page: Page, selector: string): Promise<string[]> {
  // The diff editor's code included: its change colours are ours (editor.ts, diffColors).
  const results = await new AxeBuilder({ page })
    .include(selector)
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return results.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')} (${n.failureSummary ?? ''})`).slice(0, 5).join(', ')}`);
}

test('en: predict, type the fix into Monaco, run, the checklist turns green, still done after a reload', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = collectErrors(page);
  await page.goto(lesson('en'));
  const box = boxOf(page);
  const challenge = challengeOf(page);
  await expect(challenge.getByRole('heading', { name: 'Challenge: Make the database the slow part' })).toBeVisible();
  await expect(challenge).not.toHaveAttribute('data-done');
  await challenge.getByRole('radio', { name: /1\.5 s: the longest step/ }).check();

  // The shipped code first: the goal is not met, and the checklist says what the run showed.
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 30_000 });
  const items = challenge.locator('.challenge-checklist li');
  await expect(items.filter({ hasText: /wall time/ })).toHaveClass(/challenge-miss/);
  await expect(items.filter({ hasText: /wall time/ })).toContainText(/Expected the wall time to be at least 1400 ms, saw \d+/);
  await expect(challenge.locator('.challenge-summary')).toHaveText(/^\d of 3 goals met$/);
  await expect(challenge.getByText('You predicted: ≈ 1.5 s: the longest step')).toBeVisible();
  // The prediction is locked once the first run started.
  await expect(challenge.getByRole('radio').first()).toBeDisabled();

  await typeFix(page);
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 30_000 });
  await expect(items).toHaveCount(3);
  await expect(challenge.locator('.challenge-checklist li.challenge-ok')).toHaveCount(3);
  await expect(challenge.locator('.challenge-summary')).toHaveText('Challenge done: every goal held on your run.');
  await expect(challenge).toHaveAttribute('data-done', /.*/);
  // Each item is a sentence, with its state in words for a screen reader.
  await expect(items.first()).toContainText(/met: Expected/);

  await page.reload();
  await expect(challenge).toHaveAttribute('data-done', /.*/);
  // The lesson list shows the count; the other challenge of the page is not done.
  await expect(page.locator('.lesson-sidebar [data-progress]').first()).toHaveText(/1 of \d+ challenges/);
  await expect(boxOf(page).locator('[data-challenge="expensive-cart"]')).not.toHaveAttribute('data-done');
  // The client comes at once (saved edits): the panel says it was solved before.
  await expect(challenge.locator('.challenge-summary')).toHaveText('You solved this challenge on an earlier visit.');
  await page.goto('/en/');
  await expect(page.locator('.course-list [data-progress]').first()).toHaveText(/1 of \d+ challenges/);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Reset progress' }).click();
  await expect(page.locator('[data-progress-status]')).toHaveText('Progress reset.');
  await expect(page.locator('.course-list [data-progress]').first()).toHaveText(/0 of \d+ challenges/);
  expect(errors).toEqual([]);
});

test('zh: the checklist speaks Chinese; hints open one at a time; the solution diff and Apply; axe on the new parts', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = collectErrors(page);
  await page.goto(lesson('zh'));
  const box = boxOf(page);
  const challenge = challengeOf(page);
  await box.getByRole('button', { name: '运行', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 30_000 });
  await expect(challenge.locator('.challenge-checklist li').filter({ hasText: '总耗时' })).toContainText(/预期总耗时至少为 1400 ms，实际为 \d+/);
  await expect(challenge.locator('.challenge-summary')).toHaveText(/^已达成 \d \/ 3 项目标$/);

  const hint = challenge.getByRole('button', { name: '显示提示（1 / 2）' });
  await hint.click();
  await expect(challenge.locator('.challenge-hints li')).toHaveCount(1);
  await expect(challenge.locator('.challenge-hints li').first()).toContainText('提示 1');
  await challenge.getByRole('button', { name: '显示提示（2 / 2）' }).click();
  await expect(challenge.locator('.challenge-hints li')).toHaveCount(2);
  await expect(challenge.locator('.challenge-hints li').nth(1)).toBeFocused();

  const show = challenge.getByRole('button', { name: '查看参考答案' });
  await show.click();
  await expect(challenge.getByRole('button', { name: '收起参考答案' })).toHaveAttribute('aria-expanded', 'true');
  await expect(challenge.locator('.challenge-diff .monaco-diff-editor')).toBeVisible({ timeout: 15_000 });
  await expect(challenge.locator('.challenge-diff')).toContainText('1.500');
  // The gutter's + and − are codicon glyphs: the font came with the diff, from our own files.
  await expect
    .poll(() => page.evaluate(() => [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'codicon' && f.status === 'loaded')))
    .toBe(true);
  // The diff's code, removed and added lines included, in the light theme and the dark one.
  await expect(challenge.locator('.challenge-diff .line-delete').first()).toBeVisible();
  expect(await axeOn(page, `[data-sandbox="${sandbox}"] .challenge`)).toEqual([]);
  await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
  await expect(challenge.locator('.challenge-diff .monaco-editor.vs-dark').first()).toBeVisible();
  expect(await axeOn(page, `[data-sandbox="${sandbox}"] .challenge`)).toEqual([]);
  await page.evaluate(() => (document.documentElement.dataset.theme = 'light'));

  await challenge.getByRole('button', { name: '采用参考答案' }).click();
  await expect(challenge.getByText('参考答案已放入编辑器，点“运行”检查。')).toBeVisible();
  await expect(box.locator('.monaco-editor .view-lines').first()).toContainText('asyncio.sleep(1.500)');
  await expect(box.locator('[data-edited]')).toBeVisible();
  await box.getByRole('button', { name: '运行', exact: true }).click();
  await expect(challenge.locator('.challenge-summary')).toHaveText('挑战完成：这次运行满足了所有目标。', { timeout: 30_000 });
  expect(await axeOn(page, `[data-sandbox="${sandbox}"] .challenge`)).toEqual([]);
  expect(errors).toEqual([]);
});

test('share: the link carries the code to a fresh context, with a banner; own edits are kept unless the reader agrees; garbage is refused', async ({ page, browser }) => {
  test.setTimeout(90_000);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto(lesson('en'));
  const box = boxOf(page);
  await typeFix(page);
  await box.getByRole('button', { name: 'Share', exact: true }).click();
  const note = box.locator('[data-share-note]');
  await expect(note).toHaveText(/Link copied/);
  const url = (await note.getAttribute('data-share-url'))!;
  expect(url).toMatch(/\/en\/lessons\/why-async\/#share=[A-Za-z0-9_-]+$/);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);

  // A fresh reader: the shared code shows at once, not saved as theirs, with a way back.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  const errors = collectErrors(other);
  await other.goto(url);
  const otherBox = boxOf(other);
  await expect(otherBox.locator('[data-share-banner]')).toContainText('You are viewing shared code.');
  await expect(otherBox.locator('.monaco-editor .view-lines')).toContainText('asyncio.sleep(1.500)');
  expect(await other.evaluate((key) => localStorage.getItem(key), editsKey)).toBeNull();
  expect(await axeOn(other, `[data-sandbox="${sandbox}"] [data-share-banner]`)).toEqual([]);
  await otherBox.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(challengeOf(other).locator('.challenge-summary')).toHaveText('Challenge done: every goal held on your run.', { timeout: 30_000 });
  await otherBox.getByRole('button', { name: 'Restore the lesson’s code' }).click();
  await expect(otherBox.locator('[data-share-banner]')).toHaveCount(0);
  await expect(otherBox.locator('.monaco-editor .view-lines')).toContainText('asyncio.sleep(0.200)');
  expect(new URL(other.url()).hash).toBe('');
  expect(errors).toEqual([]);
  await fresh.close();

  // A reader with their own saved edits is asked, and keeps them by default.
  const mine = await browser.newContext();
  await mine.addInitScript((key) => {
    if (!sessionStorage.getItem('seeded')) {
      localStorage.setItem(key, JSON.stringify({ 'concurrent_page.py': 'print("my own code")\n' }));
      sessionStorage.setItem('seeded', '1');
    }
  }, editsKey);
  const minePage = await mine.newPage();
  await minePage.goto(url);
  const mineBox = boxOf(minePage);
  await expect(mineBox.locator('[data-share-banner]')).toContainText('you have your own edits here');
  await expect(mineBox.locator('.monaco-editor .view-lines')).toContainText('my own code');
  await mineBox.getByRole('button', { name: 'Keep my code' }).click();
  await expect(mineBox.locator('[data-share-banner]')).toHaveCount(0);
  expect(await minePage.evaluate((key) => localStorage.getItem(key), editsKey)).toContain('my own code');

  // A damaged link: a clear sentence, the lesson's code.
  await minePage.goto(`${lesson('en')}#share=AAAA-not-a-link`);
  await minePage.reload();
  await expect(mineBox.locator('[data-share-banner]')).toContainText('This share link is damaged');
  await mine.close();
});

test('phone width: the textarea editor, the checklist and the plain solution fit the screen', async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(lesson('en'));
  const box = boxOf(page);
  const challenge = challengeOf(page);
  await box.getByRole('button', { name: 'Edit', exact: true }).click();
  await expect(box).toHaveAttribute('data-editor', 'textarea');
  const textarea = box.locator('textarea').first();
  const text = await textarea.inputValue();
  const at = text.indexOf('0.200');
  expect(at).toBeGreaterThan(0);
  await textarea.focus();
  await textarea.evaluate((el: HTMLTextAreaElement, i) => el.setSelectionRange(i, i + 5), at);
  await page.keyboard.type('1.500');
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(challenge.locator('.challenge-summary')).toHaveText('Challenge done: every goal held on your run.', { timeout: 30_000 });
  await challenge.getByRole('button', { name: 'Show solution' }).click();
  await expect(challenge.locator('.challenge-solution-text')).toContainText('1.500');
  // Nothing of the challenge is wider than the screen.
  const widest = await challenge.evaluate((el) => Math.max(...[...el.querySelectorAll('*')].map((c) => c.getBoundingClientRect().right)));
  expect(widest).toBeLessThanOrEqual(390);
  expect(await axeOn(page, `[data-sandbox="${sandbox}"] .challenge`)).toEqual([]);
});
