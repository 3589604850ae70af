/**
 * The console under floods of output (issue 16, item 1), measured as the reader feels it:
 * how late key presses are handled and drawn while a run floods the page. These tests are
 * the `measured` project, which runs alone after every other project, so the figures are
 * the page's own and not those of another test's Chromium or Pyodide boot beside it.
 */
import { readFileSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { collectErrors, nearSandboxes } from '../helpers.ts';
import { id, lesson, sandbox, withCode } from '../event-loop-sandbox.ts';

interface Probe {
  /** Each probe key press: from the event's own timestamp to its handler running, in ms. */
  keyDelays: number[];
  /** Each probe key press: from its timestamp to the next animation frame (what the reader sees), in ms. */
  frameDelays: number[];
  /** The longest main-thread task seen (Long Tasks API), in ms. */
  longestTask: number;
  /** The longest gap between two animation frames, in ms. */
  longestFrameGap: number;
  /** How late a 10 ms timer ran at worst: the longest any input would have waited, in ms. */
  worstLag: number;
}

/** A text box outside the sandbox whose key handler records how late each key press is handled. */
async function installProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __probe: Probe };
    w.__probe = { keyDelays: [], frameDelays: [], longestTask: 0, longestFrameGap: 0, worstLag: 0 };
    const tick = (due: number) =>
      setTimeout(() => {
        w.__probe.worstLag = Math.max(w.__probe.worstLag, performance.now() - due);
        tick(performance.now() + 10);
      }, 10);
    tick(performance.now() + 10);
    const input = Object.assign(document.createElement('input'), { id: 'probe', ariaLabel: 'probe' });
    input.style.cssText = 'position:fixed;top:0;left:0;width:4rem;z-index:99';
    input.addEventListener('keydown', (event) => {
      w.__probe.keyDelays.push(performance.now() - event.timeStamp);
      requestAnimationFrame(() => w.__probe.frameDelays.push(performance.now() - event.timeStamp));
    });
    document.body.append(input);
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__probe.longestTask = Math.max(w.__probe.longestTask, entry.duration);
    }).observe({ type: 'longtask' });
    let last = performance.now();
    const frame = (now: number) => {
      w.__probe.longestFrameGap = Math.max(w.__probe.longestFrameGap, now - last);
      last = now;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

/**
 * The page's worst timer lag with nothing running, over two seconds: on a shared machine
 * the OS alone delays a busy renderer, and that is not the console's doing.
 */
async function idleLag(page: Page): Promise<number> {
  await page.evaluate(() => ((window as unknown as { __probe: Probe }).__probe.worstLag = 0));
  await page.waitForTimeout(2000);
  return page.evaluate(() => {
    const probe = (window as unknown as { __probe: Probe }).__probe;
    const lag = probe.worstLag;
    probe.worstLag = probe.longestTask = probe.longestFrameGap = 0;
    return lag;
  });
}

/**
 * Starts the run with focus kept in the probe, then presses keys there one after another
 * until the sandbox leaves the running states (at least one press whatever the speed).
 */
async function runAndProbe(page: Page): Promise<{ probe: Probe; roundTrips: number[]; ms: number }> {
  const box = sandbox(page);
  const roundTrips: number[] = [];
  await page.locator('#probe').focus();
  const started = Date.now();
  await box.locator('[data-action="run"]').evaluate((button: HTMLButtonElement) => button.click());
  do {
    const t = Date.now();
    await page.keyboard.press('x');
    roundTrips.push(Date.now() - t);
  } while (Date.now() - started < 120_000 && ['starting', 'booting', 'running'].includes((await box.getAttribute('data-state')) ?? ''));
  const probe = await page.evaluate(() => (window as unknown as { __probe: Probe }).__probe);
  return { probe, roundTrips, ms: Date.now() - started };
}

/**
 * The sandbox with `code` in its editor, on `engine`, ready to run. On Pyodide, Python boots
 * first on the lesson's own code (a one-time cost that is not the console's), then the reader
 * pastes `code` into the editor.
 */
async function prepare(page: Page, engine: 'local' | 'pyodide', code: string) {
  const box = sandbox(page);
  if (engine === 'local') {
    await withCode(page, code);
    await page.goto(lesson('en'));
    await expect(box).toHaveAttribute('data-editor', 'ready'); // the saved edit opened Monaco: not part of the flood
  } else {
    await page.goto(lesson('en'));
    await nearSandboxes(page);
    await box.locator('select[data-engine]').selectOption('pyodide');
    await box.locator('[data-action="run"]').click();
    await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 120_000 });
    await box.getByRole('button', { name: 'Edit', exact: true }).click();
    await expect(box).toHaveAttribute('data-editor', 'ready');
    await box.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(code);
  }
  return box;
}

// One at a time, so no flood measures another.
test.describe('floods of output', () => {
  test.describe.configure({ mode: 'serial' });

  for (const engine of ['local', 'pyodide'] as const) {
    test(`a flood of 1,000,000 lines (${engine}): the page answers input within 100 ms, the run ends, the tail is bounded and the full output downloads`, async ({ page }, info) => {
      test.setTimeout(180_000);
      const errors = collectErrors(page);
      // One million lines of one byte each (just under every engine's 1 MiB output cap), written
      // a thousand lines at a time so the program ends at once and the page takes the flood at
      // the rate the engine delivers it. (One print per line, capped: the next test.)
      const flood = 'for i in range(1000):\n    print("\\n" * 999)\n';
      const box = await prepare(page, engine, flood);
      await expect(box.locator('[data-action="run"]')).toBeEnabled();
      await installProbe(page);
      const idle = await idleLag(page);
      const { probe, roundTrips, ms } = await runAndProbe(page);
      const worstKey = Math.max(...probe.keyDelays);
      const frames = [...probe.frameDelays].sort((a, b) => a - b);
      const p90 = frames[Math.floor(frames.length * 0.9)] ?? Infinity;
      info.annotations.push({
        type: 'measured',
        description: `${engine}: ${probe.keyDelays.length} key presses over ${ms} ms; worst key → handler ${worstKey.toFixed(1)} ms, key → next frame p90 ${p90.toFixed(0)} ms / worst ${frames.at(-1)?.toFixed(0)} ms, worst timer lag ${probe.worstLag.toFixed(0)} ms (idle page: ${idle.toFixed(0)} ms), worst round trip ${Math.max(...roundTrips)} ms, longest task ${probe.longestTask.toFixed(0)} ms, longest frame gap ${probe.longestFrameGap.toFixed(0)} ms`,
      });
      console.log(info.annotations.at(-1)!.description);
      expect(probe.keyDelays.length).toBeGreaterThan(0);
      // Every key press is handled within 100 ms of being made, and nine in ten are on screen
      // within 100 ms. (The worst frame, timer lag and long tasks are reported, not asserted: on
      // a shared 2-core machine the OS alone stretches them, as the idle page's own lag shows.
      // Before this console, 20,000 lines kept the page busy for ~2 minutes.)
      expect(worstKey).toBeLessThan(100);
      expect(p90).toBeLessThan(100);
      expect(ms).toBeLessThan(engine === 'local' ? 30_000 : 90_000);

      await expect(box.locator('[data-status]')).toContainText('Exited with code 0');
      await expect(box.locator('[data-console]')).not.toHaveAttribute('aria-busy', /.*/); // busy only while it floods
      // The DOM holds a bounded tail; the rest is counted in the bar above it.
      const shownLines = await box.locator('[data-console]').evaluate((el) => (el.textContent ?? '').split('\n').length - 1);
      expect(shownLines).toBeLessThanOrEqual(500);
      const cut = box.locator('[data-console-cut]');
      await expect(cut).toBeVisible();
      await expect(cut).toHaveAttribute('data-hidden-lines', String(1_000_000 - shownLines));
      await expect(cut).toContainText(`${(1_000_000 - shownLines).toLocaleString('en')} earlier lines are hidden`);

      const [download] = await Promise.all([page.waitForEvent('download'), cut.getByRole('button', { name: 'Download the full output' }).click()]);
      expect(download.suggestedFilename()).toBe(`${id}-output.txt`);
      const text = readFileSync(await download.path(), 'utf8');
      expect(text.length).toBe(1_000_000);
      expect(text.replaceAll('\n', '')).toBe('');
      expect(errors).toEqual([]);
    });
  }

  for (const engine of ['local', 'pyodide'] as const) {
    test(`a flood of one print per line past the output cap (${engine}): the page answers, the run is cut, the console shows the end and the download starts at the first line`, async ({ page }) => {
      test.setTimeout(180_000);
      const box = await prepare(page, engine, 'for i in range(1_000_000):\n    print(i)\n');
      await expect(box.locator('[data-action="run"]')).toBeEnabled();
      await installProbe(page);
      const idle = await idleLag(page);
      const { probe, ms } = await runAndProbe(page);
      const frames = [...probe.frameDelays].sort((a, b) => a - b);
      const p90 = frames[Math.floor(frames.length * 0.9)] ?? Infinity;
      console.log(`capped flood (${engine}): ${ms} ms, ${probe.keyDelays.length} key presses, key → next frame p90 ${p90.toFixed(0)} ms / worst ${frames.at(-1)?.toFixed(0)} ms, worst key → handler ${Math.max(...probe.keyDelays).toFixed(1)} ms, worst timer lag ${probe.worstLag.toFixed(0)} ms (idle page: ${idle.toFixed(0)} ms), longest task ${probe.longestTask.toFixed(0)} ms`);
      expect(Math.max(...probe.keyDelays)).toBeLessThan(100);
      expect(p90).toBeLessThan(100);
      expect(ms).toBeLessThan(30_000);
      await expect(box.locator('[data-status]')).toContainText('output limit of 1024 KiB reached');
      const shown = (await box.locator('[data-console]').textContent()) ?? '';
      // The runner marks the cut in the output itself, on a line of its own; Pyodide stops at a whole write.
      expect(shown).toMatch(engine === 'local' ? /\d\n\[output cut at 1024 KiB\]\n$/ : /\d\n$/);
      const cut = box.locator('[data-console-cut]');
      const [download] = await Promise.all([page.waitForEvent('download'), cut.getByRole('button').click()]);
      const text = readFileSync(await download.path(), 'utf8');
      expect(text.startsWith('0\n1\n2\n3\n')).toBe(true);
      expect(text.endsWith(shown.slice(-200))).toBe(true);
      expect(text.length).toBeGreaterThan(1000 * 1024);
      expect(text.length).toBeLessThan(1024 * 1024 + 100);
    });
  }
});
