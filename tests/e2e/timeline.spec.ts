import { test, expect, type Page } from '@playwright/test';

const langs = [
  { lang: 'en', run: 'Run', exportName: /Open in Perfetto/ },
  { lang: 'zh', run: '运行', exportName: /Perfetto/ },
] as const;

const groupWall = async (page: Page, row: 'current' | 'previous', group: string) =>
  Number(await page.locator(`[data-sandbox="async-def-vs-def"] [data-row="${row}"] li[data-group="${group}"]`).getAttribute('data-wall-ms'));

test.describe('with JavaScript off', () => {
  test.use({ javaScriptEnabled: false });
  test('the recorded timeline is in the static page, summary and all', async ({ page }) => {
    await page.goto('/en/lessons/async-def-vs-def/');
    const timeline = page.locator('[data-sandbox="async-def-vs-def"] [data-timeline]');
    await expect(timeline).toBeVisible();
    await expect(timeline.locator('.tl-chart')).toHaveAttribute('aria-label', /wall time/);
    expect(Number(await timeline.getAttribute('data-loop-blocked-ms'))).toBeGreaterThan(4500);
    // The fifteen handlers, folded into one row per endpoint: each row counts its lanes and draws a tick where each began.
    const groups = timeline.locator('details.tl-group[data-kind="handler"]');
    await expect(groups).toHaveCount(3);
    const counts = await groups.evaluateAll((els) => els.map((el) => Number((el as HTMLElement).dataset.count)));
    const ticks = await groups.locator('summary path.tl-start').evaluateAll((els) => els.map((el) => (el.getAttribute('d')!.match(/M/g) ?? []).length));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(15);
    expect(ticks).toEqual(counts);
  });
});

for (const c of langs) {
  test(`${c.lang}: lesson 4 draws the run; blocking async def takes ≈5× as long; the fix shows in the comparison row`, async ({ page }) => {
    test.setTimeout(90_000);
    await page.goto(`/${c.lang}/lessons/async-def-vs-def/`);
    const box = page.locator('[data-sandbox="async-def-vs-def"]');
    const timeline = box.locator('[data-timeline]');
    await box.getByRole('button', { name: c.run, exact: true }).click();
    await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 40_000 });
    await expect(timeline).toHaveAttribute('data-state', 'done');
    const concurrent = await groupWall(page, 'current', 'GET /async-sleep');
    const serial = await groupWall(page, 'current', 'GET /async-blocking');
    expect(serial / concurrent).toBeGreaterThan(4);
    expect(serial / concurrent).toBeLessThan(6);
    expect(Number(await timeline.getAttribute('data-loop-blocked-ms'))).toBeGreaterThan(4500);

    // The lesson's exercise: await instead of block, run again, compare.
    await box.locator('.sandbox-file pre').first().click();
    await expect(box).toHaveAttribute('data-editor', 'ready');
    const code = await page.evaluate(async () => {
      const src = document.querySelector<HTMLElement>('[data-sandbox="async-def-vs-def"]')!.dataset.sandboxSrc!;
      return ((await (await fetch(src)).json()) as { files: Record<string, string> }).files['main.py']!;
    });
    const fixed = code.replace(/(async def async_blocking[\s\S]*?)time\.sleep\(1\)/, '$1await asyncio.sleep(1)');
    expect(fixed).not.toBe(code);
    // Paste, as a reader would: typed text would be re-indented by the editor.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.evaluate((text) => navigator.clipboard.writeText(text), fixed);
    await box.locator('.monaco-editor').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('ControlOrMeta+V');
    await expect(box.locator('.monaco-editor .view-lines')).toContainText('await asyncio.sleep(1)');
    await box.getByRole('button', { name: c.run, exact: true }).click();
    await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 40_000 });
    await expect(box.locator('[data-row="previous"]')).toBeVisible();
    const after = await groupWall(page, 'current', 'GET /async-blocking');
    const before = await groupWall(page, 'previous', 'GET /async-blocking');
    expect(after).toBeLessThan(1600);
    expect(before).toBeGreaterThan(4500);
    expect(Number(await timeline.getAttribute('data-loop-blocked-ms'))).toBeLessThan(500);
  });
}

test('export downloads Chrome Trace Event JSON that Perfetto can open', async ({ page }) => {
  await page.goto('/en/lessons/event-loop/');
  const box = page.locator('[data-sandbox="event-loop-two-sleeps"]');
  const download = page.waitForEvent('download');
  await box.getByRole('button', { name: /Open in Perfetto/ }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('event-loop-two-sleeps.trace.json');
  interface ChromeEvent {
    ph: string;
    name: string;
    cat: string;
    dur: number;
    pid: number;
    tid: number;
    args?: { name?: string };
  }
  const text = Buffer.concat(await (await file.createReadStream()).toArray()).toString('utf8');
  const json = JSON.parse(text) as { traceEvents: ChromeEvent[] };
  expect(Array.isArray(json.traceEvents)).toBe(true);
  const names = json.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name);
  expect(names).toContain('event loop');
  const blocks = json.traceEvents.filter((e) => e.cat === 'loop-busy' && e.ph === 'X');
  expect(blocks.length).toBe(5);
  expect(blocks.every((e) => e.dur > 900_000 && e.pid === 1 && e.tid > 0)).toBe(true);
});
