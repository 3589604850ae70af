/**
 * The timeline as a reader meets it (issue 16, items 3–4), on the built site at desktop and
 * phone sizes: the blocking-the-loop lesson's recorded timeline keeps its key lanes on
 * screen with the event loop first, labels ≥ 12 px, every tick label inside its box, a
 * legend, groups that open; bars and text meet WCAG AA in both themes; and a run that
 * raises says so instead of drawing an empty chart, in the comparison row too.
 */
import { test, expect, type Locator, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

const sizes = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

const stall = (page: Page) => page.locator('[data-sandbox="blocking-the-loop-stall"] [data-timeline]');

interface Geometry {
  labelSizes: number[];
  tickOutside: string[];
  firstLaneKind: string | undefined;
  chart: { top: number; bottom: number; height: number };
  keyLanes: { name: string; top: number; bottom: number; left: number; right: number }[];
  pageOverflow: number;
}

/** Where things are on screen, read in the page after the timeline is scrolled to the top of the view. */
async function geometry(timeline: Locator): Promise<Geometry> {
  return timeline.evaluate((root) => {
    const visible = (el: Element) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(el).display !== 'none' && getComputedStyle(el).visibility !== 'hidden';
    };
    const texts = [...root.querySelectorAll('.tl-row[data-row="current"] .tl-label, .tl-row[data-row="current"] .tl-tick-label, .tl-legend li')].filter(visible);
    const scroll = root.querySelector('.tl-row[data-row="current"] .tl-scroll')!.getBoundingClientRect();
    const tickOutside = [...root.querySelectorAll('.tl-row[data-row="current"] .tl-tick-label')]
      .filter(visible)
      .filter((el) => {
        const box = el.getBoundingClientRect();
        return box.left < scroll.left - 0.5 || box.right > scroll.right + 0.5;
      })
      .map((el) => el.textContent ?? '');
    const chart = root.querySelector('.tl-row[data-row="current"] .tl-chart')!.getBoundingClientRect();
    const lanes = [...root.querySelectorAll('.tl-row[data-row="current"] .tl-chart > .tl-lane, .tl-row[data-row="current"] .tl-chart > details > summary')];
    const keyLanes = lanes
      .map((el) => ({ el, name: el.querySelector('.tl-label')?.textContent?.trim() ?? '' }))
      .filter(({ el, name }) => el.matches('[data-kind="loop"]') || /GET \/(sleep|rates|report)$/.test(name))
      .map(({ el, name }) => {
        const box = el.getBoundingClientRect();
        return { name, top: box.top, bottom: box.bottom, left: box.left, right: box.right };
      });
    return {
      labelSizes: texts.map((el) => parseFloat(getComputedStyle(el).fontSize)),
      tickOutside,
      firstLaneKind: lanes[0]?.getAttribute('data-kind') ?? undefined,
      chart: { top: chart.top, bottom: chart.bottom, height: chart.height },
      keyLanes,
      pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    };
  });
}

for (const size of sizes) {
  test(`${size.name} (${size.width}×${size.height}): blocking-the-loop's timeline keeps the loop first and the key lanes on screen, labels ≥ 12 px, ticks inside, a legend`, async ({ page }, info) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.goto('/en/lessons/blocking-the-loop/');
    const timeline = stall(page);
    await timeline.locator('.tl-row[data-row="current"] .tl-chart').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    const g = await geometry(timeline);
    expect(g.firstLaneKind).toBe('loop');
    expect(Math.min(...g.labelSizes)).toBeGreaterThanOrEqual(12);
    expect(g.tickOutside).toEqual([]);
    expect(g.pageOverflow).toBeLessThanOrEqual(0);
    // The loop and the three requests the lesson is about, each side: on screen at once, inside the viewport's width.
    expect(g.keyLanes.map((l) => l.name)).toEqual([
      'event loop blocked',
      expect.stringMatching(/^request \d+ · GET \/sleep$/),
      expect.stringMatching(/^request \d+ · GET \/rates$/),
      expect.stringMatching(/^request \d+ · GET \/report$/),
      expect.stringMatching(/^handler \d+ · GET \/sleep$/),
      expect.stringMatching(/^handler \d+ · GET \/rates$/),
      expect.stringMatching(/^handler \d+ · GET \/report$/),
    ]);
    for (const lane of g.keyLanes) {
      expect(lane.bottom, lane.name).toBeLessThanOrEqual(size.height);
      expect(lane.right, lane.name).toBeLessThanOrEqual(size.width);
    }
    expect(g.chart.height).toBeLessThan(size.height / 2);
    // The legend says what the colours mean.
    const legend = timeline.locator('.tl-legend');
    await expect(legend).toBeVisible();
    await expect(legend).toContainText('event loop blocked');
    await expect(legend).toContainText('request (client side');
    await expect(legend).toContainText('similar lanes folded into one row');
    // The process start is a note, not empty space.
    await expect(timeline.locator('.tl-row[data-row="current"] .tl-note')).toContainText(/the process had started [\d.]+ m?s earlier/);
    await timeline.screenshot({ path: info.outputPath(`blocking-the-loop-timeline-${size.name}.png`) });
    // The twenty probes open to twenty lanes (drawn once the recorded trace loads, which pointing at the sandbox starts).
    const health = timeline.locator('.tl-row[data-row="current"] details.tl-group[data-kind="request"]');
    await expect(health.locator('.tl-members .tl-lane').first()).toBeHidden();
    await health.locator('summary').click();
    await expect(health.locator('.tl-members .tl-lane')).toHaveCount(20);
    await expect(health.locator('.tl-members .tl-lane').nth(19)).toBeVisible();
  });
}

test('zh: the same timeline in Chinese, labels ≥ 12 px on a phone', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/zh/lessons/blocking-the-loop/');
  const timeline = stall(page);
  await expect(timeline.locator('.tl-legend')).toContainText('事件循环被阻塞');
  await expect(timeline.locator('.tl-row[data-row="current"] .tl-note')).toContainText('进程在此之前');
  const g = await geometry(timeline);
  expect(g.firstLaneKind).toBe('loop');
  expect(Math.min(...g.labelSizes)).toBeGreaterThanOrEqual(12);
  expect(g.tickOutside).toEqual([]);
});

/** WCAG contrast ratio of two computed CSS colours (rgb/rgba, opaque enough to ignore alpha). */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = c.match(/[\d.]+/g)!.slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

for (const scheme of ['light', 'dark'] as const) {
  test(`${scheme}: the timeline's text passes axe colour-contrast and every bar's edge stands out 3:1 from the page`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [url, id] of [
      ['/en/lessons/blocking-the-loop/', 'blocking-the-loop-stall'],
      ['/en/lessons/event-loop/', 'event-loop-two-sleeps'],
    ] as const) {
      await page.goto(url);
      const selector = `[data-sandbox="${id}"] [data-timeline]`;
      const results = await new AxeBuilder({ page }).include(selector).withRules(['color-contrast']).analyze();
      expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
      const colours = await page.locator(selector).evaluate((root) => {
        const bg = getComputedStyle(root).backgroundColor;
        const bars = [...root.querySelectorAll('.tl-row[data-row="current"] .tl-span, .tl-row[data-row="current"] .tl-run')];
        const seen = new Map<string, { edge: string; fill: string }>();
        for (const bar of bars) {
          const style = getComputedStyle(bar);
          seen.set(bar.getAttribute('class')!, { edge: style.stroke === 'none' ? style.fill : style.stroke, fill: style.fill });
        }
        return { bg, bars: [...seen.entries()] };
      });
      expect(colours.bars.length).toBeGreaterThan(1);
      for (const [cls, { edge }] of colours.bars) expect(contrast(edge, colours.bg), `${id} ${cls}: ${edge} on ${colours.bg}`).toBeGreaterThanOrEqual(3);
      // Solid run marks stand out from the outlined lifetime they sit on.
      const lifetime = colours.bars.find(([cls]) => cls.includes('tl-lifetime'));
      const run = colours.bars.find(([cls]) => cls === 'tl-run');
      if (lifetime && run) expect(contrast(run[1].fill, lifetime[1].fill)).toBeGreaterThanOrEqual(3);
    }
  });
}

test('a run that raises says what happened instead of an empty chart, and so does the comparison row after it', async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto('/en/lessons/event-loop/');
  const box = page.locator('[data-sandbox="event-loop-one-thread"]');
  const timeline = box.locator('[data-timeline]');
  await box.locator('.sandbox-file pre').first().click();
  await expect(box).toHaveAttribute('data-editor', 'ready');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.evaluate((text) => navigator.clipboard.writeText(text), 'raise RuntimeError("boom before any task")\n');
  await box.locator('.monaco-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
  await expect(box.locator('.monaco-editor .view-lines')).toContainText('boom before any task');
  for (const round of [1, 2]) {
    await box.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 40_000 });
    await expect(timeline).toHaveAttribute('data-state', 'done');
    const current = timeline.locator('[data-row="current"]');
    await expect(current.locator('.tl-message')).toHaveText(/^Nothing to draw: the run ended before any traced activity \(Exited with code 1 after [\d.]+ s.*\)\. The console above says why\.$/);
    await expect(current.locator('.tl-chart')).toHaveCount(0);
    await expect(current).not.toContainText('wall time');
    await expect(current).not.toContainText('longest by —');
    const previous = timeline.locator('[data-row="previous"]');
    if (round === 1) await expect(previous.locator('.tl-chart')).toBeVisible(); // the recording
    else {
      await expect(previous.locator('.tl-message')).toContainText('Nothing to draw: the run ended before any traced activity (Exited with code 1');
      await expect(previous).not.toContainText('0 ms wall time');
    }
  }
  await expect(box.locator('[data-console]')).toContainText('RuntimeError: boom before any task');
});
