/**
 * Live preview against the real runner: while a server sandbox runs on the local engine, the
 * request panel, the SSE viewer and the two-client WebSocket chat talk to that run's server
 * through /__runner/preview/…, in both languages; Stop ends it and the panels say so.
 */
import { test, expect, type Locator } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { collectErrors } from './helpers.ts';

const cases = [
  {
    lang: 'en',
    run: 'Run',
    stop: 'Stop',
    send: 'Send',
    connect: 'Connect',
    disconnect: 'Disconnect',
    path: 'Path',
    message: 'Message',
    title: 'Live preview',
    toggle: 'Live preview (keep the server running)',
    ended: /server has stopped/,
    sseOpen: /Connected/,
    sseEnded: /ended the stream after 10 events/,
    sseClosed: /Disconnected after \d events/,
    chatOpen: 'Connected',
    clientA: 'Client A',
    clientB: 'Client B',
    closed1003: /Closed \(code 1003: JSON only\)/,
  },
  {
    lang: 'zh',
    run: '运行',
    stop: '停止',
    send: '发送',
    connect: '连接',
    disconnect: '断开',
    path: '路径',
    message: '消息',
    title: '实时预览',
    toggle: '实时预览（让服务器保持运行）',
    ended: /服务器已经停止/,
    sseOpen: /已连接/,
    sseEnded: /发完 10 个事件后结束/,
    sseClosed: /已断开，共收到 \d 个事件/,
    chatOpen: '已连接',
    clientA: '客户端 A',
    clientB: '客户端 B',
    closed1003: /已关闭（代码 1003: JSON only）/,
  },
] as const;

async function startPreview(box: Locator, c: (typeof cases)[number]): Promise<Locator> {
  // The client (which shows the toggle) loads when the reader nears the sandbox.
  await box.scrollIntoViewIfNeeded();
  await expect(box).toHaveAttribute('data-wired', 'true');
  await box.getByLabel(c.toggle).check();
  await box.getByRole('button', { name: c.run, exact: true }).click();
  await expect(box.getByLabel(c.toggle)).toBeDisabled();
  const panel = box.locator('[data-preview="open"]');
  await expect(panel).toBeVisible({ timeout: 20_000 });
  await expect(panel.getByText(c.title, { exact: true })).toBeVisible();
  return box.locator('section[data-preview]');
}

for (const c of cases) {
  test(`${c.lang}: the request panel sends requests to the running FastAPI server (lesson 4)`, async ({ page }) => {
    test.setTimeout(60_000);
    const errors = collectErrors(page);
    await page.goto(`/${c.lang}/lessons/async-def-vs-def/`);
    const box = page.locator('[data-sandbox="async-def-vs-def"]');
    const panel = await startPreview(box, c);
    const requests = panel.locator('[data-preview-part="requests"]');
    await expect(requests.getByLabel(c.path)).toHaveValue('/async-sleep');
    await requests.getByRole('button', { name: c.send, exact: true }).click();
    await expect(requests.locator('[data-preview-status]')).toContainText('200', { timeout: 20_000 });
    await expect(requests.locator('[data-preview-body]')).toContainText('"endpoint":"async def + await asyncio.sleep(1)"');
    // Another path, typed with the keyboard; Enter submits.
    await requests.getByLabel(c.path).fill('/sync-sleep');
    await requests.getByLabel(c.path).press('Enter');
    await expect(requests.locator('[data-preview-body]')).toContainText('"endpoint":"def + time.sleep(1)"', { timeout: 20_000 });
    await expect(requests.locator('[data-preview-body]')).toContainText('"thread":"AnyIO worker thread"');
    // The app's own 404 comes through as the app's.
    await requests.getByLabel(c.path).fill('/nope');
    await requests.getByRole('button', { name: c.send, exact: true }).click();
    // (The load's /async-blocking requests may hold the loop for up to 5 s meanwhile.)
    await expect(requests.locator('[data-preview-status]')).toContainText('404', { timeout: 20_000 });

    const axe = await new AxeBuilder({ page }).include('section.preview').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

    await box.getByRole('button', { name: c.stop, exact: true }).click();
    await expect(box).toHaveAttribute('data-preview', 'ended');
    await expect(box.locator('[data-preview-note]')).toHaveText(c.ended);
    await expect(requests.getByRole('button', { name: c.send, exact: true })).toBeDisabled();
    // The browser itself logs the app's 404 to the console; nothing else may appear.
    expect(errors.filter((e) => !/status of 404 .*\/nope\)$/.test(e))).toEqual([]);
  });

  test(`${c.lang}: the SSE viewer lists events as they arrive, and Disconnect ends the stream (lesson 11)`, async ({ page }) => {
    test.setTimeout(60_000);
    const errors = collectErrors(page);
    await page.goto(`/${c.lang}/lessons/streaming/`);
    const box = page.locator('[data-sandbox="streaming-sse"]');
    const panel = await startPreview(box, c);
    const sse = panel.locator('[data-preview-part="sse"]');
    await expect(sse.getByLabel(c.path)).toHaveValue('/jobs/42/progress');
    const events = sse.getByRole('log');
    await sse.getByRole('button', { name: c.connect, exact: true }).click();
    await expect(events.locator('li').first()).toContainText('progress #1: {"job": "42", "step": 1, "of": 10}', { timeout: 15_000 });
    // Incremental: the first event is on the page while the stream is still open.
    expect(await events.locator('li').count()).toBeLessThan(10);
    await expect(sse.locator('[data-preview-status]')).toHaveText(c.sseOpen);
    await expect(events.locator('li')).toHaveCount(10, { timeout: 10_000 });
    await expect(sse.locator('[data-preview-status]')).toHaveText(c.sseEnded);
    await expect(box.getByRole('log').first()).toContainText('[server] job 42: finished after 10 of 10 events');

    // Again, and leave halfway: the server notices its client going.
    await sse.getByRole('button', { name: c.connect, exact: true }).click();
    await expect(events.locator('li').nth(1)).toBeVisible({ timeout: 15_000 });
    await sse.getByRole('button', { name: c.disconnect, exact: true }).click();
    await expect(sse.locator('[data-preview-status]')).toHaveText(c.sseClosed);
    await expect(box.locator('[data-console]')).toContainText(/\[server\] job 42: client left, stopped after \d+ of 10 events, cleaned up/, { timeout: 10_000 });

    await box.getByRole('button', { name: c.stop, exact: true }).click();
    await expect(box).toHaveAttribute('data-preview', 'ended');
    await expect(sse.getByRole('button', { name: c.connect, exact: true })).toBeDisabled();
    expect(errors).toEqual([]);
  });

  test(`${c.lang}: two WebSocket clients chat through the running server (lesson 11)`, async ({ page }) => {
    test.setTimeout(60_000);
    const errors = collectErrors(page);
    await page.goto(`/${c.lang}/lessons/streaming/`);
    const box = page.locator('[data-sandbox="streaming-websocket-room"]');
    const panel = await startPreview(box, c);
    const chat = panel.locator('[data-preview-part="chat"]');
    const a = chat.getByRole('region', { name: c.clientA, exact: true });
    const b = chat.getByRole('region', { name: c.clientB, exact: true });
    for (const client of [a, b]) {
      await expect(client.getByLabel(c.path)).toHaveValue('/ws/lobby');
      await client.getByRole('button', { name: c.connect, exact: true }).click();
      await expect(client.locator('[data-preview-status]')).toHaveText(c.chatOpen, { timeout: 15_000 });
    }
    await expect(a.getByLabel(c.message, { exact: true })).toHaveValue('{"text": "hello"}');
    await a.getByRole('button', { name: c.send, exact: true }).click();
    // The server broadcasts to the room: both clients receive it, the sender included.
    await expect(b.getByRole('log')).toContainText(/← \{"from": ?"guest-\d+", ?"text": ?"hello"\}/, { timeout: 10_000 });
    await expect(a.getByRole('log')).toContainText(/← \{"from": ?"guest-\d+", ?"text": ?"hello"\}/);
    await expect(a.getByRole('log')).toContainText('→ {"text": "hello"}');
    // Plain text is not JSON: the server closes that client with 1003.
    await b.getByLabel(c.message, { exact: true }).fill('not json');
    await b.getByLabel(c.message, { exact: true }).press('Enter');
    await expect(b.locator('[data-preview-status]')).toHaveText(c.closed1003, { timeout: 10_000 });
    await expect(a.locator('[data-preview-status]')).toHaveText(c.chatOpen);

    await box.getByRole('button', { name: c.stop, exact: true }).click();
    await expect(box).toHaveAttribute('data-preview', 'ended');
    await expect(a.locator('[data-preview-status]')).toHaveText(c.ended);
    expect(errors).toEqual([]);
  });
}

test('without the Live preview box ticked a server sandbox runs as before: it ends after its load, no panels, no preview code', async ({ page }) => {
  test.setTimeout(60_000);
  const scripts: string[] = [];
  page.on('request', (request) => {
    if (request.resourceType() === 'script') scripts.push(request.url());
  });
  await page.goto('/en/lessons/streaming/');
  const box = page.locator('[data-sandbox="streaming-sse"]');
  await expect(box.getByLabel('Live preview (keep the server running)')).not.toBeChecked();
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 30_000 });
  await expect(box.getByRole('log').first()).toContainText('[load] 3 SSE streams: 3 ok, 0 failed');
  await expect(box.getByRole('log').first()).not.toContainText('live preview');
  await expect(page.locator('section[data-preview]')).toHaveCount(0);
  expect(scripts.filter((url) => /preview-panel/.test(url))).toEqual([]);
  // Sandboxes without a preview in their manifest have no box at all.
  await expect(page.locator('[data-sandbox="streaming-websocket-room"] [data-preview-toggle]')).toHaveCount(1);
  await page.goto('/en/lessons/event-loop/');
  await expect(page.locator('[data-preview-toggle]')).toHaveCount(0);
});
