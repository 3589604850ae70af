import { test, expect } from '@playwright/test';

/**
 * Issue 16, item 8, as a reader meets it: a failing edit's traceback names the reader's
 * own file first, and Monaco numbers its lines so the number can be found.
 */
test('a traceback starts at the reader’s code, and its line number is in the editor’s gutter', async ({ page }) => {
  await page.goto('/en/lessons/event-loop/');
  const box = page.locator('[data-sandbox="event-loop-one-thread"]');
  await box.getByRole('button', { name: 'Edit', exact: true }).click();
  await expect(box).toHaveAttribute('data-editor', 'ready');
  const editor = box.locator('.monaco-editor');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  // No indented blocks: Monaco's auto-indent would change what is typed.
  await page.keyboard.insertText('check = lambda n: 10 / n\n\nprint(check(0))\n');
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  const log = box.getByRole('log');
  await expect(log).toContainText('ZeroDivisionError', { timeout: 15_000 });
  const text = (await log.textContent()) ?? '';
  const files = [...text.matchAll(/File "([^"]+)", line (\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
  expect(files).toEqual(['/work/one_thread.py:3', '/work/one_thread.py:1']);
  expect(text).not.toMatch(/harness|runpy/);
  // Line 1 of the gutter is the line that raised.
  const gutter = editor.locator('.line-numbers');
  await expect(gutter.first()).toBeVisible();
  const numbers = await gutter.allTextContents();
  expect(numbers.map((n) => n.trim())).toEqual(expect.arrayContaining(['1', '2', '3']));
  const raising = editor.locator('.view-line', { hasText: 'lambda n' });
  const one = gutter.filter({ hasText: /^\s*1\s*$/ });
  expect(Math.abs((await raising.boundingBox())!.y - (await one.boundingBox())!.y)).toBeLessThan(2);
});
