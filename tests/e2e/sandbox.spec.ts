import { readFileSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { collectErrors } from './helpers.ts';

// What the sandbox runtime runs, as runtime.json names it: the page shows it beside every Python sandbox.
const { versions } = JSON.parse(readFileSync(new URL('../../sandboxes/_runtime/runtime.json', import.meta.url), 'utf8')) as {
  versions: Record<string, string>;
};

function manifestLanguage(id: string): string {
  return (JSON.parse(readFileSync(new URL(`../../sandboxes/${id}/sandbox.json`, import.meta.url), 'utf8')) as { language: string }).language;
}

const cases = [
  { lang: 'en', run: 'Run', stop: 'Stop', edit: 'Edit', reset: 'Reset', stopped: 'stopped', unreachable: /runner is unreachable/ },
  { lang: 'zh', run: '运行', stop: '停止', edit: '编辑', reset: '还原', stopped: '已停止', unreachable: /连接不上运行器/ },
] as const;

const sandbox = (page: Page) => page.locator('[data-sandbox="event-loop-two-sleeps"]');

for (const c of cases) {
  test(`${c.lang}: each Python sandbox names the runtime's versions, in the static HTML`, async ({ page }) => {
    await page.goto(`/${c.lang}/lessons/streaming/`);
    const label = page.locator('[data-sandbox="streaming-sse"] [data-sandbox-versions]');
    await expect(label).toHaveText(`Python ${versions.python} · FastAPI ${versions.fastapi}`);
    await expect(label).toHaveAttribute('title', c.lang === 'en' ? /local runner/ : /本地运行器/);
    // Every Python sandbox on the page carries it; Node sandboxes do not (their manifests say which is which).
    const ids = await page.locator('[data-sandbox]').evaluateAll((els) => els.map((el) => el.getAttribute('data-sandbox')!));
    const pythonIds = ids.filter((id) => manifestLanguage(id) === 'python');
    expect(pythonIds.length).toBeGreaterThan(0);
    const labelled = await page.locator('[data-sandbox]').filter({ has: page.locator('[data-sandbox-versions]') }).evaluateAll((els) => els.map((el) => el.getAttribute('data-sandbox')!));
    expect(labelled).toEqual(pythonIds);
  });

  test(`${c.lang}: Run executes the sandbox for real and shows its output and exit`, async ({ page }) => {
    const errors = collectErrors(page);
    await page.goto(`/${c.lang}/lessons/event-loop/`);
    const box = sandbox(page);
    await box.getByRole('button', { name: c.run, exact: true }).click();
    const log = box.getByRole('log');
    await expect(log).toContainText('5 x asyncio.sleep(1.0):', { timeout: 15_000 });
    await expect(log).toContainText('5 x time.sleep(1.0):', { timeout: 15_000 });
    // The numbers are measured, not printed from the page: parse and check their shape.
    const text = (await log.textContent()) ?? '';
    const [polite, rude] = [...text.matchAll(/: +([\d.]+) s/g)].map((m) => Number(m[1]));
    expect(polite).toBeGreaterThan(0.9);
    expect(polite).toBeLessThan(1.6);
    expect(rude).toBeGreaterThan(4.9);
    await expect(box).toHaveAttribute('data-state', 'exited');
    expect(errors).toEqual([]);
  });

  test(`${c.lang}: Stop ends a running sandbox and says so`, async ({ page }) => {
    await page.goto(`/${c.lang}/lessons/event-loop/`);
    const box = sandbox(page);
    await box.getByRole('button', { name: c.run, exact: true }).click();
    await expect(box.getByRole('log')).toContainText('asyncio.sleep', { timeout: 15_000 });
    await box.getByRole('button', { name: c.stop, exact: true }).click();
    await expect(box.locator('[data-status]')).toContainText(c.stopped);
    await expect(box).toHaveAttribute('data-state', 'stopped');
    await expect(box.getByRole('button', { name: c.run, exact: true })).toBeEnabled();
  });

  test(`${c.lang}: with the runner gone, Run says it is unreachable instead of hanging`, async ({ page }) => {
    // Every WebSocket to the runner is refused, as when `npm start` has been stopped.
    await page.routeWebSocket(/\/__runner/, (ws) => ws.close());
    await page.goto(`/${c.lang}/lessons/event-loop/`);
    const box = sandbox(page);
    await box.getByRole('button', { name: c.run, exact: true }).click();
    await expect(box.locator('[data-status]')).toHaveText(c.unreachable, { timeout: 8_000 });
    await expect(box.getByRole('button', { name: c.run, exact: true })).toBeEnabled();
  });
}

for (const c of cases) {
  test(`${c.lang}: edit in Monaco, run the edit, keep it across a reload, reset to the original`, async ({ page }) => {
    const errors = collectErrors(page);
    await page.goto(`/${c.lang}/lessons/event-loop/`);
    const box = page.locator('[data-sandbox="event-loop-one-thread"]');
    const run = box.getByRole('button', { name: c.run, exact: true });
    const log = box.getByRole('log');
    const heightBefore = (await box.boundingBox())!.height;
    await box.getByRole('button', { name: c.edit, exact: true }).click();
    await expect(box).toHaveAttribute('data-editor', 'ready');
    // Monaco took the static block's place without moving anything below it.
    expect(Math.abs((await box.boundingBox())!.height - heightBefore)).toBeLessThan(2);
    const editor = box.locator('.monaco-editor');
    await expect(editor).toBeVisible();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText('import sys\nprint("edited", sys.version_info[0])\n');
    await run.click();
    await expect(log).toHaveText('edited 3\n', { timeout: 15_000 });
    await expect(box.locator('[data-edited]')).toBeVisible();

    await page.reload();
    await expect(box).toHaveAttribute('data-editor', 'ready');
    await expect(box.locator('.monaco-editor .view-lines')).toContainText('print("edited"');
    await run.click();
    await expect(log).toHaveText('edited 3\n', { timeout: 15_000 });

    await box.getByRole('button', { name: c.reset, exact: true }).click();
    await expect(box.locator('[data-edited]')).toBeHidden();
    await run.click();
    await expect(log).toContainText("gather returned ['A', 'B']", { timeout: 15_000 });
    await page.reload();
    await expect(box).not.toHaveAttribute('data-editor', 'ready');
    expect(errors).toEqual([]);
  });
}

for (const c of cases) {
  test(`${c.lang}: two sandboxes on one page run at the same time, each with its own output`, async ({ page }) => {
    await page.goto(`/${c.lang}/lessons/event-loop/`);
    const slow = sandbox(page);
    const quick = page.locator('[data-sandbox="event-loop-one-thread"]');
    await slow.getByRole('button', { name: c.run, exact: true }).click();
    await expect(slow).toHaveAttribute('data-state', 'running');
    await quick.getByRole('button', { name: c.run, exact: true }).click();
    // The quick one finishes while the slow one (6 s) is still going.
    await expect(quick).toHaveAttribute('data-state', 'exited', { timeout: 10_000 });
    await expect(slow).toHaveAttribute('data-state', 'running');
    await expect(quick.getByRole('log')).toContainText("gather returned ['A', 'B']");
    await expect(quick.getByRole('log')).not.toContainText('time.sleep');
    await expect(slow).toHaveAttribute('data-state', 'exited', { timeout: 15_000 });
    await expect(slow.getByRole('log')).not.toContainText('gather returned');
  });
}

test('zh lesson 4: 运行 shows the three endpoints’ real timings (≈1 s, ≈1 s, a staircase to ≈5 s)', async ({ page }) => {
  test.setTimeout(60_000);
  await page.goto('/zh/lessons/async-def-vs-def/');
  const box = page.locator('[data-sandbox="async-def-vs-def"]');
  await box.getByRole('button', { name: '运行', exact: true }).click();
  const log = box.getByRole('log');
  await expect(log).toContainText('[load] 15 requests: 15 answered, 0 failed', { timeout: 40_000 });
  const text = (await log.textContent()) ?? '';
  const times = (path: string) =>
    [...text.matchAll(new RegExp(`GET ${path} → 200 in (\\d+) ms`, 'g'))].map((m) => Number(m[1])).sort((a, b) => a - b);
  const [asyncSleep, syncSleep, blocking] = [times('/async-sleep'), times('/sync-sleep'), times('/async-blocking')];
  expect(asyncSleep).toHaveLength(5);
  expect(syncSleep).toHaveLength(5);
  expect(blocking).toHaveLength(5);
  expect(Math.max(...asyncSleep)).toBeLessThan(1600);
  expect(Math.max(...syncSleep)).toBeLessThan(1600);
  expect(blocking.at(-1)!).toBeGreaterThan(4500);
  await expect(box.locator('[data-status]')).toContainText('本地运行器');
});
