/**
 * Issue 16, page weight: a lesson page fetches no sandbox data (files, recorded traces) until
 * the reader reaches for a sandbox; the first Run fetches its data, once, and the run works.
 * The recorded timeline is in the page meanwhile, drawn compactly, and drawn in full (bar
 * titles, the table) once the data is there.
 */
import { test, expect } from '@playwright/test';

test('no sandbox data before any interaction; the first Run fetches it once and runs', async ({ page }) => {
  test.setTimeout(60_000);
  const fetched: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/sandbox-data/')) fetched.push(new URL(request.url()).pathname);
  });
  await page.goto('/en/lessons/async-def-vs-def/', { waitUntil: 'networkidle' });
  const box = page.locator('[data-sandbox="async-def-vs-def"]');
  await expect(box.locator('[data-action="run"]')).toBeEnabled();
  expect(fetched).toEqual([]);
  // Nor the sandbox client: it loads when the reader nears a sandbox (this one is below the fold).
  await expect(page.locator('[data-sandbox][data-wired]')).toHaveCount(0);
  // Nothing of the data is inlined: the page names where it lives, versioned by its content.
  const inline = JSON.parse((await box.locator('[data-sandbox-data]').textContent())!) as Record<string, unknown>;
  expect(Object.keys(inline).sort()).toEqual(['manifest', 'recordedCaption']);
  await expect(box).toHaveAttribute('data-sandbox-src', /^\/sandbox-data\/async-def-vs-def\.json\?v=[0-9a-f]{12}$/);
  // The static drawing is compact: the chart and its summary, no per-bar titles, no table.
  const timeline = box.locator('[data-timeline]');
  await expect(timeline.locator('.tl-chart')).toHaveAttribute('aria-label', /wall time/);
  await expect(timeline.locator('.tl-chart title')).toHaveCount(0);
  await expect(timeline.locator('.tl-details table')).toHaveCount(0);

  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 40_000 });
  await expect(box.locator('[data-console]')).toContainText('[load]');
  expect(fetched).toEqual(['/sandbox-data/async-def-vs-def.json']);
  // The recording became the comparison row, drawn in full; the new run has its table.
  await expect(timeline.locator('[data-row="previous"] .tl-chart')).toBeVisible();
  await expect(timeline.locator('[data-row="current"] rect title').first()).toBeAttached();
  await expect(timeline.locator('.tl-details table')).toHaveCount(1);
});

test('reaching for a sandbox (pointer or focus) loads its data, and only its own', async ({ page }) => {
  const fetched: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/sandbox-data/')) fetched.push(new URL(request.url()).pathname);
  });
  await page.goto('/en/lessons/event-loop/', { waitUntil: 'networkidle' });
  expect(fetched).toEqual([]);
  const box = page.locator('[data-sandbox]').first();
  const id = await box.getAttribute('data-sandbox');
  await box.locator('.sandbox-file pre').first().hover();
  await expect.poll(() => fetched).toEqual([`/sandbox-data/${id}.json`]);
  // The recorded chart is redrawn in full once its data is there: bars carry their titles.
  await expect(box.locator('[data-timeline] .tl-chart rect title').first()).toBeAttached();
});
