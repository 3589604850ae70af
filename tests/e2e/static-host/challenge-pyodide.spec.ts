/**
 * A challenge solved where no runner exists (issue 19): on a static host the sandbox runs in
 * Pyodide, and the goal checklist judges the trace that Pyodide run produced, in the page's
 * language, the same way it does for the local runner.
 */
import { test, expect, type Page } from '@playwright/test';
import { collectErrors, typeOver } from '../helpers.ts';

const sandbox = 'event-loop-two-sleeps';
const boxOf = (page: Page) => page.locator(`[data-sandbox="${sandbox}"]`);

test('zh, Pyodide: the shipped code misses the goal, the reader edits it, the checklist turns green and stays done', async ({ page }) => {
  test.setTimeout(150_000);
  const errors = collectErrors(page);
  await page.goto('/zh/lessons/event-loop/');
  const box = boxOf(page);
  const challenge = box.locator('[data-challenge="more-shorter-sleeps"]');
  await box.scrollIntoViewIfNeeded();
  await expect(box).toHaveAttribute('data-engine', 'pyodide');
  await expect(challenge.getByRole('heading', { name: /更多、更短的睡眠/ })).toBeVisible();
  await challenge.getByRole('radio', { name: /约 4 s/ }).check();

  // The lesson's code: every task sleeps 1 s, so the goal's loop-blocked window is missed.
  await box.getByRole('button', { name: '运行', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 90_000 });
  const items = challenge.locator('.challenge-checklist li');
  const total = await items.count();
  expect(total).toBeGreaterThanOrEqual(4);
  await expect(challenge.locator('.challenge-checklist li.challenge-miss')).not.toHaveCount(0);
  await expect(challenge.locator('.challenge-summary')).toHaveText(new RegExp(`^已达成 \\d / ${total} 项目标$`));
  await expect(challenge).not.toHaveAttribute('data-done');
  await expect(items.first()).toContainText(/已达成|尚未达成/);

  await box.getByRole('button', { name: '编辑', exact: true }).click();
  await expect(box).toHaveAttribute('data-editor', 'ready');
  await typeOver(page, box, 'TASKS = 5', 'TASKS = 20');
  await typeOver(page, box, 'DELAY = 1.0', 'DELAY = 0.2');
  await expect(box.locator('.monaco-editor .view-lines')).toContainText('TASKS = 20');
  await expect(box.locator('.monaco-editor .view-lines')).toContainText('DELAY = 0.2');

  await box.getByRole('button', { name: '运行', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 60_000 });
  await expect(challenge.locator('.challenge-checklist li.challenge-ok')).toHaveCount(total);
  await expect(challenge.locator('.challenge-summary')).toHaveText('挑战完成：这次运行满足了所有目标。');
  await expect(challenge).toHaveAttribute('data-done', /.*/);
  // The console shows this run's own numbers: Pyodide ran the edited code.
  await expect(box.locator('[data-console]')).toContainText('20 x time.sleep(0.2):');

  await page.reload();
  await expect(boxOf(page).locator('[data-challenge="more-shorter-sleeps"]')).toHaveAttribute('data-done', /.*/);
  expect(errors).toEqual([]);
});
