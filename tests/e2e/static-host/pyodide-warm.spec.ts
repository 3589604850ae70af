/**
 * Pyodide's boot, moved out of the reader's way (issue 16): the interpreter starts when a
 * Python sandbox comes near the viewport — not at page load, not only on Run — fetches
 * only what a stdlib-only interpreter needs, and a warm interpreter starts the next run at
 * once, with nothing left from the last one.
 */
import { expect, test, type Page } from '@playwright/test';
import { collectErrors } from '../helpers.ts';

function pyodideRequests(page: Page): string[] {
  const urls: string[] = [];
  page.context().on('request', (r) => r.url().includes('/_pyodide/') && urls.push(r.url().slice(r.url().lastIndexOf('/') + 1)));
  return urls;
}

const booted = (page: Page) => page.evaluate(() => performance.getEntriesByName('pyodide: harness').length > 0);

test('the interpreter boots when a Python sandbox scrolls near, before any click, and fetches no lock file', async ({ page }) => {
  const errors = collectErrors(page);
  // A short window: the lesson's sandboxes start well over a screen below the top.
  await page.setViewportSize({ width: 1000, height: 240 });
  const requests = pyodideRequests(page);
  await page.goto('/en/lessons/event-loop/');
  const box = page.locator('[data-sandbox="event-loop-two-sleeps"]');
  const below = await box.evaluate((el) => el.getBoundingClientRect().top - innerHeight);
  expect(below).toBeGreaterThan(240); // farther than the prewarm margin (one screen)
  // The reader moves about the top of the page: the sandbox client may load, Pyodide must not.
  await page.mouse.move(20, 20);
  await page.mouse.move(40, 30);
  await page.waitForTimeout(500);
  expect(requests).toEqual([]);
  expect(await booted(page)).toBe(false);

  await box.scrollIntoViewIfNeeded();
  // In view, the client wires the sandbox with the engine a static host has.
  await expect(box).toHaveAttribute('data-engine', 'pyodide');
  await expect.poll(() => booted(page), { timeout: 60_000 }).toBe(true);
  expect(await box.getAttribute('data-state') ?? 'idle').not.toMatch(/running|exited/); // nobody clicked
  expect([...new Set(requests)].sort()).toEqual(['pyodide.asm.mjs', 'pyodide.asm.wasm', 'pyodide.mjs', 'python_stdlib.zip']);
  // The boot's steps are on the page's timeline, for the benchmark and DevTools.
  const steps = await page.evaluate(() => performance.getEntriesByType('measure').map((m) => m.name).filter((n) => n.startsWith('pyodide: ')));
  expect(steps).toEqual(expect.arrayContaining(['pyodide: loadPyodide', 'pyodide: wasm-instantiate', 'pyodide: harness']));

  // Run finds the interpreter warm: no "Starting Python" step.
  await box.locator('[data-action="run"]').click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 15_000 });
  await expect(box.locator('[data-status]')).toContainText('Ran on Pyodide in your browser');
  expect(errors).toEqual([]);
});

test('a second run starts at once and sees nothing the first run defined', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 }); // the textarea editor: plain typing
  await page.goto('/en/lessons/event-loop/');
  const box = page.locator('[data-sandbox="event-loop-one-thread"]');
  await box.locator('[data-action="edit"]').click();
  const editor = box.locator('textarea.sandbox-textarea');
  await editor.fill('leak = "first run"\nprint("defined")\n');
  await box.locator('[data-action="run"]').click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 90_000 });
  await expect(box.locator('[data-console]')).toHaveText('defined\n');

  await editor.fill('print("leak" in globals(), globals().get("leak"))\n');
  // Click → running on the page's own clock (the warm start; the issue asks for ≤ 100 ms, bounded loosely for loaded machines).
  const startMs = await box.evaluate(async (root) => {
    const started = performance.now();
    root.querySelector<HTMLButtonElement>('[data-action="run"]')!.click();
    while (!/^(running|exited)$/.test((root as HTMLElement).dataset.state ?? '')) await new Promise((r) => setTimeout(r, 1));
    return performance.now() - started;
  });
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 10_000 });
  await expect(box.locator('[data-console]')).toHaveText('False None\n');
  expect(startMs).toBeLessThan(1000);
});
