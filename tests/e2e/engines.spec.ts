/**
 * With `npm start` the local runner runs everything; where an in-browser engine can run a
 * sandbox too, the page offers it and the reader can switch (DESIGN §4).
 */
import { expect, test } from '@playwright/test';
import { collectErrors, nearSandboxes } from './helpers.ts';

test('a Python script offers the local runner first and Pyodide as a choice; both run it', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/en/lessons/coroutines-and-tasks/');
  await nearSandboxes(page);
  const box = page.locator('[data-sandbox="coroutines-and-tasks-order"]');
  const picker = box.locator('select[data-engine]');
  await expect(picker).toBeEnabled();
  await expect(picker).toHaveValue('local');
  expect(await picker.locator('option').allTextContents()).toEqual(['the local runner', 'Pyodide in your browser']);

  await box.locator('[data-action="run"]').click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 30_000 });
  await expect(box.locator('[data-status]')).toContainText('Ran on the local runner');

  await picker.selectOption('pyodide');
  await expect(box).toHaveAttribute('data-engine', 'pyodide');
  await box.locator('[data-action="run"]').click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 90_000 });
  await expect(box.locator('[data-status]')).toContainText('Ran on Pyodide in your browser');
  await expect(box.locator('[data-console]')).toContainText("main: gather returned ['tea', 'coffee', 'cocoa']");
  // Both runs stay on the timeline, one above the other: the same program, two engines.
  await expect(box.locator('[data-timeline] [data-row]')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('a sandbox only the runner can run shows its one engine without a choice', async ({ page }) => {
  await page.goto('/zh/lessons/offloading/');
  await nearSandboxes(page);
  const box = page.locator('[data-sandbox="offloading-to-thread"]');
  const picker = box.locator('select[data-engine]');
  await expect(picker).toBeDisabled();
  await expect(picker).toHaveValue('local');
  await expect(picker.locator('option')).toHaveText(['本地运行器']);
});
