/**
 * The sandbox as a reader meets it (issue 16, items 1, 2, 7 and 9): a console that follows
 * the reader's scroll and keeps its bounds, a way out of the editor by keyboard, a status
 * line that reads as a sentence, focus that stays on a control after Stop, one look for
 * every button, and the lesson's printed output told apart from the reader's run. Floods of
 * output are measured in measured/console-floods.spec.ts.
 */
import AxeBuilder from '@axe-core/playwright';
import { test, expect, type Page } from '@playwright/test';
import { id, lesson, sandbox, withCode } from './event-loop-sandbox.ts';

test('the reader scrolled up: new output does not pull them down; back at the bottom it follows again', async ({ page }) => {
  await withCode(page, 'import time\nfor i in range(400):\n    print(i, flush=True)\n    time.sleep(0.01)\n');
  await page.goto(lesson('en'));
  const box = sandbox(page);
  const log = box.locator('[data-console]');
  await expect(box.locator('[data-action="run"]')).toBeEnabled();
  await box.locator('[data-action="run"]').click();
  await expect(log).toContainText('\n60\n', { timeout: 15_000 });
  await log.evaluate((el) => (el.scrollTop = 0));
  await expect(log).toContainText('\n200\n', { timeout: 15_000 });
  expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
  await log.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 15_000 });
  expect(await log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(24);
});

/** Whether focus is inside this sandbox's Monaco (its input element varies by version). */
const inEditor = (page: Page) => page.evaluate((sel) => Boolean(document.activeElement?.closest(sel)), `[data-sandbox="${id}"] .monaco-editor`);

test.describe('keyboard: a way out of the editor', () => {
  test.use({ viewport: { width: 1280, height: 800 } });

  async function openEditor(page: Page) {
    await page.goto(lesson('en'));
    const box = sandbox(page);
    await box.getByRole('button', { name: 'Edit', exact: true }).click();
    await expect(box).toHaveAttribute('data-editor', 'ready');
    await expect.poll(() => inEditor(page)).toBe(true);
    const editor = { focus: () => box.locator('.monaco-editor .view-lines').click() };
    return { box, editor, run: box.locator('[data-action="run"]') };
  }

  test('Escape then Tab leaves forwards, Escape then Shift+Tab backwards; the hint says so and is a live region', async ({ page }) => {
    const { box, editor, run } = await openEditor(page);
    const hint = box.locator('.sandbox-editor-hint');
    await expect(hint).toHaveAttribute('role', 'status');
    await expect(hint).toHaveText('Tab indents · to leave the editor: Esc, then Tab (or Shift+Tab) · Ctrl+M: Tab moves focus');
    // Laid over the sandbox's header, on one line: it hides no code and moves nothing.
    const [hintBox, headerBox, editorBox] = [await hint.boundingBox(), await box.locator('.sandbox-header').boundingBox(), await box.locator('.monaco-editor').boundingBox()];
    expect(Math.abs(hintBox!.y - headerBox!.y)).toBeLessThan(2);
    expect(Math.abs(hintBox!.height - headerBox!.height)).toBeLessThan(2); // inside the header's border
    expect(hintBox!.y + hintBox!.height).toBeLessThanOrEqual(editorBox!.y + 1);
    expect(await hint.evaluate((el) => el.scrollHeight <= el.clientHeight && el.getClientRects().length === 1)).toBe(true);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    await expect(run).toBeFocused();
    await expect(hint).toHaveText('');

    await editor.focus();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Shift+Tab');
    const before = await page.evaluate(() => {
      const editor = document.querySelector('[data-sandbox="event-loop-one-thread"] .monaco-editor')!;
      const active = document.activeElement!;
      return active !== document.body && !editor.contains(active) && (editor.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_PRECEDING) !== 0;
    });
    expect(before).toBe(true);
  });

  test('Ctrl+M makes Tab move focus, and Ctrl+M again makes it indent', async ({ page }) => {
    const { box, editor, run } = await openEditor(page);
    const hint = box.locator('.sandbox-editor-hint');
    await page.keyboard.press('Control+m');
    await expect(hint).toHaveText('Tab now moves focus out of the editor · Ctrl+M: Tab indents again');
    await page.keyboard.press('Tab');
    await expect(run).toBeFocused();
    await editor.focus();
    await page.keyboard.press('Control+m');
    await expect(hint).toContainText('Tab indents ·');
    await page.keyboard.press('Tab');
    expect(await inEditor(page)).toBe(true);
  });

  test('Tab without Escape still indents, and a key between Escape and Tab cancels the exit', async ({ page }) => {
    const { box } = await openEditor(page);
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Tab');
    expect(await inEditor(page)).toBe(true);
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Tab');
    expect(await inEditor(page)).toBe(true);
    await expect(box.locator('[data-edited]')).toBeVisible();
    const saved = await page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? '{}') as Record<string, string>, `asynclab:sandbox:${id}`);
    expect(saved['one_thread.py']).toMatch(/^ {4}\S/);
  });
});

/** How many lines a block of text takes, from its box and its line height. */
async function lineCount(page: Page, selector: string): Promise<number> {
  return page.locator(selector).evaluate((el) => {
    const lineHeight = Number.parseFloat(getComputedStyle(el).lineHeight);
    return Math.round(el.getBoundingClientRect().height / lineHeight);
  });
}

test.describe('the status line', () => {
  for (const { width, height, maxLines } of [
    { width: 1280, height: 800, maxLines: 2 },
    { width: 390, height: 844, maxLines: 4 },
  ]) {
    test(`at ${width}×${height} a limit message takes at most ${maxLines} lines, across the sandbox's width`, async ({ page }) => {
      await page.setViewportSize({ width, height });
      await withCode(page, 'print("x" * 2_000_000)\n');
      await page.goto(lesson('en'));
      const box = sandbox(page);
      await expect(box.locator('[data-action="run"]')).toBeEnabled();
      await box.locator('[data-action="run"]').click();
      const status = box.locator('[data-status]');
      await expect(status).toContainText('output limit of 1024 KiB reached; the rest was cut · Ran on the local runner', { timeout: 20_000 });
      // The console ends with the huge line's tail, then the runner's marker on a line of its own.
      expect(await box.locator('[data-console]').textContent()).toMatch(/x\n\[output cut at 1024 KiB\]\n$/);
      const selector = `[data-sandbox="${id}"] [data-status]`;
      expect(await lineCount(page, selector)).toBeLessThanOrEqual(maxLines);
      const [statusBox, toolbar] = [await status.boundingBox(), await box.locator('.sandbox-toolbar').boundingBox()];
      expect(statusBox!.width).toBeGreaterThan(toolbar!.width * 0.85);
      // The plain exit fits on one line on a desktop, two on a phone.
      await page.evaluate((key) => localStorage.removeItem(key), `asynclab:sandbox:${id}`);
      await box.locator('[data-action="reset"]').click();
      await box.locator('[data-action="run"]').click();
      await expect(status).toContainText('Ran on the local runner', { timeout: 20_000 });
      await expect(box).toHaveAttribute('data-state', 'exited');
      expect(await lineCount(page, selector)).toBeLessThanOrEqual(width > 600 ? 1 : 2);
    });
  }

  test('the Ctrl/⌘ + Enter hint shows with a mouse and hides on a touch-only device', async ({ browser }) => {
    const desktop = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await desktop.goto(lesson('en'));
    await expect(desktop.locator(`[data-sandbox="${id}"] .sandbox-shortcut`)).toBeVisible();
    await desktop.close();

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    const page = await phone.newPage();
    await page.goto(lesson('en'));
    expect(await page.evaluate(() => matchMedia('(hover: none) and (pointer: coarse)').matches)).toBe(true);
    await expect(page.locator(`[data-sandbox="${id}"] .sandbox-shortcut`)).toBeHidden();
    await phone.close();
  });
});

test('after Stop, focus is on Run, not on the page body', async ({ page }) => {
  await page.goto(lesson('en'));
  const box = page.locator('[data-sandbox="event-loop-two-sleeps"]');
  await box.locator('[data-action="run"]').click();
  await expect(box.getByRole('log')).toContainText('asyncio.sleep', { timeout: 15_000 });
  const stop = box.locator('[data-action="stop"]');
  await stop.focus();
  await page.keyboard.press('Enter');
  await expect(box).toHaveAttribute('data-state', 'stopped');
  await expect(stop).toBeHidden();
  await expect(box.locator('[data-action="run"]')).toBeFocused();
});

test('"Open in Perfetto" looks like the other sandbox buttons and stays on one line on a phone', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(lesson('en'));
  const box = sandbox(page);
  const perfetto = box.locator('[data-action="export"]');
  const edit = box.locator('[data-action="edit"]');
  await expect(perfetto).toBeVisible();
  const look = (el: Element) => {
    const s = getComputedStyle(el);
    return { border: `${s.borderTopStyle} ${s.borderTopWidth} ${s.borderTopColor}`, radius: s.borderTopLeftRadius, font: s.fontFamily, padding: s.paddingLeft, background: s.backgroundColor };
  };
  expect(await perfetto.evaluate(look)).toEqual(await edit.evaluate(look));
  expect(await perfetto.evaluate((el) => getComputedStyle(el).borderTopStyle)).toBe('solid');
  const lines = await perfetto.evaluate((el) => {
    const s = getComputedStyle(el);
    return Math.round((el.getBoundingClientRect().height - Number.parseFloat(s.paddingTop) - Number.parseFloat(s.paddingBottom) - 2) / Number.parseFloat(s.lineHeight === 'normal' ? String(Number.parseFloat(s.fontSize) * 1.2) : s.lineHeight));
  });
  expect(lines).toBe(1);
  const [button, section] = [await perfetto.boundingBox(), await box.boundingBox()];
  expect(button!.x + button!.width).toBeLessThanOrEqual(section!.x + section!.width);
});

for (const lang of ['en', 'zh'] as const) {
  test(`${lang}: once the reader runs, the lesson's printed output under the sandbox is captioned as the lesson's`, async ({ page }) => {
    await page.goto(lesson(lang));
    const box = sandbox(page);
    const caption = page.locator(`#sbx-${id}-expected`);
    await expect(caption).toHaveCount(0); // nothing moves before the reader acts
    await box.locator('[data-action="run"]').click();
    await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 20_000 });
    await expect(caption).toHaveText(lang === 'en' ? /lesson’s output, for comparison with your run/ : /课文给出的输出.*英文/);
    // It captions the output block right under this sandbox, and only once.
    const described = page.locator(`pre[aria-describedby="sbx-${id}-expected"]`);
    await expect(described).toContainText('main: gather returned');
    await box.locator('[data-action="run"]').click();
    await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 20_000 });
    await expect(page.locator('.sandbox-expected')).toHaveCount(1);
  });
}

for (const scheme of ['light', 'dark'] as const) {
  test(`axe (${scheme}): a lesson with the console cut bar, the editor hint and the output caption on screen`, async ({ page }) => {
    test.setTimeout(60_000);
    await page.emulateMedia({ colorScheme: scheme });
    await withCode(page, 'for i in range(3000):\n    print(i)\n');
    await page.goto(lesson('en'));
    const box = sandbox(page);
    await expect(box).toHaveAttribute('data-editor', 'ready');
    await box.locator('[data-action="run"]').click();
    await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 20_000 });
    await expect(box.locator('[data-console-cut]')).toBeVisible();
    await box.locator('.monaco-editor .view-lines').click();
    await expect(box.locator('.sandbox-editor-hint')).not.toHaveText('');
    // The timeline is being redesigned on its own branch (issue 16, item 3, contrast included):
    // its "previous run" row, drawn after a run, is left to that work.
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
      .exclude('[data-timeline] [data-row="previous"]')
      .analyze();
    const serious = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
    expect(serious).toEqual([]);
  });
}
