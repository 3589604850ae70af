import { test, expect, type Page } from '@playwright/test';
import { collectErrors } from './helpers.ts';

const cases = [
  { lang: 'en', run: 'Run', stop: 'Stop', stopped: 'stopped', unreachable: /runner is unreachable/ },
  { lang: 'zh', run: '运行', stop: '停止', stopped: '已停止', unreachable: /连接不上运行器/ },
] as const;

const sandbox = (page: Page) => page.locator('[data-sandbox="event-loop-two-sleeps"]');

for (const c of cases) {
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
