/**
 * Static-host mode (DESIGN §4): the built site on a plain static server — no runner, no
 * isolation headers, no network beyond the site itself. Python script sandboxes run in
 * Pyodide from the site's own assets and draw real timelines; what cannot run in a
 * browser keeps its recorded timeline and says what would run it.
 */
import { expect, test, type Page } from '@playwright/test';
import { collectErrors, nearSandboxes } from '../helpers.ts';

/** Every request the page and its workers make must stay on the site (no CDN, works offline). */
function foreignRequests(page: Page): string[] {
  const foreign: string[] = [];
  page.context().on('request', (request) => {
    const url = new URL(request.url());
    if (!['http:', 'https:'].includes(url.protocol)) return; // data:, blob:
    if (url.host !== new URL(page.url() || 'http://127.0.0.1').host && url.hostname !== '127.0.0.1') foreign.push(request.url());
  });
  return foreign;
}

async function blockNetwork(page: Page): Promise<void> {
  // Anything off this machine is refused: the engine must not need it.
  await page.context().route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort('internetdisconnected'));
}

async function runToEnd(page: Page, id: string, timeout = 90_000) {
  const box = page.locator(`[data-sandbox="${id}"]`);
  await box.locator('[data-action="run"]').click();
  await expect(box).toHaveAttribute('data-state', /^(exited|stopped|timeout|output-limit)$/, { timeout });
  return box;
}

test('lesson 3 in Pyodide: asyncio.sleep overlaps, time.sleep blocks the loop — drawn from this run', async ({ page }) => {
  const errors = collectErrors(page);
  const foreign = foreignRequests(page);
  await blockNetwork(page);
  await page.goto('/en/lessons/event-loop/');
  await nearSandboxes(page);
  const box = page.locator('[data-sandbox="event-loop-two-sleeps"]');
  await expect(box).toHaveAttribute('data-engine', 'pyodide');
  await expect(box.locator('[data-engine]')).toHaveValue('pyodide');

  await box.locator('[data-action="run"]').click();
  await expect(box.locator('[data-status]')).toContainText('Starting Python in your browser');
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 90_000 });
  await expect(box.locator('[data-status]')).toContainText('Ran on Pyodide in your browser');
  await expect(box.locator('[data-console]')).toContainText(/5 x asyncio\.sleep\(1\.0\): 1\.[0-2]\d s/);
  await expect(box.locator('[data-console]')).toContainText(/5 x time\.sleep\(1\.0\): +5\.\d\d s/);
  // The timeline now shows this run (not the recording): the loop lane holds ≈5 s of blocks.
  const timeline = box.locator('[data-timeline]');
  await expect(timeline.locator('figcaption, .tl-caption').first()).toContainText('this run');
  const blocked = Number(await timeline.getAttribute('data-loop-blocked-ms'));
  expect(blocked).toBeGreaterThan(4800);
  expect(blocked).toBeLessThan(6000);
  await expect(timeline.locator('[data-row="current"] .tl-label', { hasText: 'event loop' })).toBeVisible();
  expect(errors).toEqual([]);
  expect(foreign).toEqual([]);
});

test('lesson 2 in Pyodide: gather runs three tasks at once (overlapping task lanes)', async ({ page }) => {
  const errors = collectErrors(page);
  await blockNetwork(page);
  await page.goto('/en/lessons/coroutines-and-tasks/');
  await nearSandboxes(page);
  const box = await runToEnd(page, 'coroutines-and-tasks-order');
  await expect(box.locator('[data-console]')).toContainText("main: gather returned ['tea', 'coffee', 'cocoa']");
  const timeline = box.locator('[data-timeline]');
  await expect(timeline.locator('figcaption, .tl-caption').first()).toContainText('this run');
  expect(Number(await timeline.getAttribute('data-peak-concurrency'))).toBeGreaterThanOrEqual(3);
  expect(errors).toEqual([]);
});

for (const slug of ['why-async', 'event-loop']) {
  test(`every Python script sandbox of ${slug} runs in Pyodide, warm after the first, in Chinese too`, async ({ page }) => {
    const errors = collectErrors(page);
    await blockNetwork(page);
    await page.goto(`/zh/lessons/${slug}/`);
    await nearSandboxes(page);
    const boxes = page.locator('[data-sandbox][data-engine="pyodide"]');
    const ids = await boxes.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.sandbox!));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    for (const [i, id] of ids.entries()) {
      const box = page.locator(`[data-sandbox="${id}"]`);
      await box.locator('[data-action="run"]').click();
      if (i > 0) {
        // The interpreter stays warm: no second boot on this page.
        await expect(box).toHaveAttribute('data-state', /^(running|exited)$/, { timeout: 5_000 });
      }
      await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 90_000 });
      await expect(box.locator('[data-status]')).toContainText('运行环境：浏览器中的 Pyodide');
      await expect(box.locator('[data-status]')).toContainText('退出码 0');
      await expect(box.locator('[data-timeline]').locator('figcaption, .tl-caption').first()).toContainText('本次运行');
    }
    expect(errors).toEqual([]);
  });
}

test('a sandbox that needs threads keeps its recorded timeline and says what would run it', async ({ page }) => {
  const errors = collectErrors(page);
  for (const [lang, text] of [
    ['en', 'This sandbox needs threads, which only the local runner provides. Run npm start locally'],
    ['zh', '这个沙箱需要多线程，只有本地运行器能提供。请在本地运行 npm start'],
  ] as const) {
    await page.goto(`/${lang}/lessons/offloading/`);
    await nearSandboxes(page);
    const box = page.locator('[data-sandbox="offloading-to-thread"]');
    await expect(box).toHaveAttribute('data-state', 'unsupported');
    await expect(box.locator('[data-status]')).toContainText(text);
    await expect(box.locator('[data-status] code')).toHaveText('npm start'); // the command, as code
    await expect(box.locator('[data-action="run"]')).toBeDisabled();
    await expect(box.locator('[data-engine-picker]')).toBeHidden();
    // The recorded run is drawn, as static HTML.
    await expect(box.locator('[data-timeline]')).toBeVisible();
    await expect(box.locator('[data-timeline] svg').first()).toBeVisible();
  }
  expect(errors).toEqual([]);
});

test('a Node sandbox explains that WebContainers need cross-origin isolation and network, with no console errors', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/en/lessons/event-loop/');
  await nearSandboxes(page);
  const box = page.locator('[data-sandbox="event-loop-node-timers"]');
  await expect(box).toHaveAttribute('data-state', 'unsupported');
  await expect(box.locator('[data-status]')).toContainText('needs a cross-origin isolated page (COOP and COEP headers) and network access to StackBlitz');
  await expect(box.locator('[data-action="run"]')).toBeDisabled();
  await expect(box.locator('[data-timeline] svg').first()).toBeVisible();
  await page.goto('/zh/lessons/event-loop/');
  await nearSandboxes(page);
  await expect(page.locator('[data-sandbox="event-loop-node-timers"] [data-status]')).toContainText('跨源隔离');
  expect(errors).toEqual([]);
});

test('Stop ends a runaway loop in Pyodide (worker replaced without isolation) and the next run works', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 }); // the textarea editor: plain typing
  await page.goto('/en/lessons/event-loop/');
  await nearSandboxes(page);
  const box = page.locator('[data-sandbox="event-loop-one-thread"]');
  await box.locator('[data-action="edit"]').click();
  const editor = box.locator('textarea.sandbox-textarea');
  await editor.fill('print("spinning", flush=True)\nwhile True:\n    pass\n');
  await box.locator('[data-action="run"]').click();
  await expect(box.locator('[data-console]')).toContainText('spinning', { timeout: 90_000 });
  await box.locator('[data-action="stop"]').click();
  await expect(box).toHaveAttribute('data-state', 'stopped', { timeout: 5_000 });
  await expect(box.locator('[data-status]')).toContainText('stopped');
  await editor.fill('print("fresh start")\n');
  const again = await runToEnd(page, 'event-loop-one-thread');
  await expect(again.locator('[data-console]')).toHaveText('fresh start\n');
});

test('cross-origin isolated, Stop interrupts the run in place and Python stays warm', async ({ page }, testInfo) => {
  const base = testInfo.project.metadata.isolatedBaseURL as string;
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`${base}/en/lessons/event-loop/`);
  await nearSandboxes(page);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const box = page.locator('[data-sandbox="event-loop-one-thread"]');
  await box.locator('[data-action="edit"]').click();
  const editor = box.locator('textarea.sandbox-textarea');
  await editor.fill('import time\nprint("sleeping", flush=True)\ntime.sleep(60)\n');
  await box.locator('[data-action="run"]').click();
  await expect(box.locator('[data-console]')).toContainText('sleeping', { timeout: 90_000 });
  await box.locator('[data-action="stop"]').click();
  await expect(box).toHaveAttribute('data-state', 'stopped', { timeout: 3_000 });
  await editor.fill('print("still warm")\n');
  await box.locator('[data-action="run"]').click();
  // No boot: the interpreter survived the interrupt.
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 5_000 });
  await expect(box.locator('[data-console]')).toHaveText('still warm\n');
});

test('on a phone, editing uses a plain textarea (no Monaco) and Run uses the edit', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  const monaco: string[] = [];
  page.on('request', (r) => r.url().includes('editor.api') && monaco.push(r.url()));
  await page.goto('/en/lessons/event-loop/');
  await nearSandboxes(page);
  const box = page.locator('[data-sandbox="event-loop-one-thread"]');
  await box.locator('.sandbox-file pre').first().tap();
  const editor = box.locator('textarea.sandbox-textarea');
  await expect(editor).toBeVisible();
  await expect(box).toHaveAttribute('data-editor', 'textarea');
  await editor.fill('import asyncio\nasync def main():\n    await asyncio.sleep(0.1)\n    print("edited on a phone")\nasyncio.run(main())\n');
  const done = await runToEnd(page, 'event-loop-one-thread');
  await expect(done.locator('[data-console]')).toHaveText('edited on a phone\n');
  await expect(done.locator('[data-edited]')).toBeVisible();
  // The timeline stays readable on the phone: labels of 12 px or more, and nothing pushes the page sideways.
  const timeline = done.locator('[data-timeline]');
  const labelSizes = await timeline.locator('.tl-row[data-row="current"] .tl-label').evaluateAll((els) =>
    els.filter((el) => el.getBoundingClientRect().width > 0).map((el) => parseFloat(getComputedStyle(el).fontSize)),
  );
  expect(labelSizes.length).toBeGreaterThan(0);
  expect(Math.min(...labelSizes)).toBeGreaterThanOrEqual(12);
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  expect(monaco).toEqual([]);
  await context.close();
});
