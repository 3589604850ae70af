/**
 * Issue 16, page weight: a lesson page fetches no sandbox data (files, recorded traces) until
 * the reader reaches for a sandbox; the first Run fetches its data, once, and the run works.
 * The recorded timeline is in the page meanwhile, drawn compactly (a group's lanes one by one
 * left out), and drawn in full (bar titles, the table, every lane) once the data is there.
 * No sandbox script beyond the small boot runs before the reader does something, even with a
 * sandbox in the first screen.
 */
import { test, expect } from '@playwright/test';

test('no sandbox data before any interaction; the first Run fetches it once and runs', async ({ page }) => {
  test.setTimeout(60_000);
  const fetched: string[] = [];
  const fonts: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/sandbox-data/')) fetched.push(new URL(request.url()).pathname);
    if (request.resourceType() === 'font') fonts.push(new URL(request.url()).pathname);
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
  // Monaco's icon font (153 kB) waits for a glyph of it to be drawn: a find box, a diff.
  expect(fonts.filter((f) => f.includes('codicon'))).toEqual([]);
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

test('a sandbox in the first screen loads nothing at load; the first input loads the client, reaching for it loads its data', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  const scripts: string[] = [];
  const data: string[] = [];
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/sandbox-data/')) data.push(pathname);
    else if (request.resourceType() === 'script') scripts.push(pathname.split('/').pop()!);
  });
  await page.goto('/zh/lessons/pitfalls/', { waitUntil: 'networkidle' });
  const box = page.locator('[data-sandbox]').first();
  // The premise: this sandbox is on screen without scrolling.
  const top = await box.evaluate((el) => el.getBoundingClientRect().top);
  expect(top).toBeLessThan(800);
  await page.waitForTimeout(300);
  expect(scripts.filter((s) => s.startsWith('init.'))).toEqual([]);
  expect(data).toEqual([]);
  await expect(page.locator('[data-sandbox][data-wired]')).toHaveCount(0);

  // A pointer moving over the header (not the sandbox): the client loads, the data does not.
  await page.mouse.move(40, 20);
  await page.mouse.move(60, 24);
  await expect(box).toHaveAttribute('data-wired', 'true');
  expect(scripts.filter((s) => s.startsWith('init.'))).toHaveLength(1);
  await page.waitForTimeout(300);
  expect(data).toEqual([]);

  // Pointing at the sandbox is the intent that fetches its data.
  await box.locator('.sandbox-file pre').first().hover();
  await expect.poll(() => data).toEqual([`/sandbox-data/${await box.getAttribute('data-sandbox')}.json`]);
});

test('a group of the static timeline holds a note, not its lanes; opened, it shows every lane once the trace loads', async ({ page }) => {
  const data: string[] = [];
  page.on('request', (request) => request.url().includes('/sandbox-data/') && data.push(new URL(request.url()).pathname));
  await page.goto('/en/lessons/blocking-the-loop/', { waitUntil: 'networkidle' });
  const box = page.locator('[data-sandbox="blocking-the-loop-stall"]');
  const group = box.locator('.tl-row[data-row="current"] details.tl-group[data-kind="request"]');
  await expect(group.locator('summary .tl-count')).toHaveText('×20');
  await expect(group.locator('summary path.tl-start')).toBeAttached();
  await expect(group.locator('.tl-members .tl-lane')).toHaveCount(0);
  await expect(group.locator('.tl-members .tl-later')).toHaveText(/drawn from the recorded trace/);
  expect(data).toEqual([]);

  await group.locator('summary').click();
  await expect(group.locator('.tl-members .tl-lane')).toHaveCount(20);
  await expect(group).toHaveAttribute('open', '');
  await expect(group.locator('.tl-members .tl-lane').nth(19)).toBeVisible();
  expect(data).toEqual(['/sandbox-data/blocking-the-loop-stall.json']);
});
