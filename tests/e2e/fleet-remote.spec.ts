/**
 * The hosted mode in a browser: the static site, built with PUBLIC_RUNNER_URL and served by a
 * plain static server on one origin, runs its sandboxes through a gateway on another origin (a
 * real gateway, a runner node and the fleet's private Redis: src/fleet). The static server sends
 * deploy/static/_headers (its CSP naming this gateway, COOP/COEP), as a host publishing the site
 * with it would, so everything below also holds under that policy. A FastAPI sandbox runs
 * and its timeline is drawn; a challenge's goal is checked on a hosted run (missed by the
 * lesson's code, met by the solution); a live preview works cross-origin, without a token; a restarted
 * gateway is found again without a reload; with the gateway gone, a Python script falls back to
 * Pyodide and a server sandbox says why it cannot run, in the page's words.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import sirv from 'sirv';
import { startTestFleet, type TestFleet } from '../fleet/helpers.ts';
import { collectErrors } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const base = Number(process.env.E2E_PORT ?? 4399);
const gatewayPort = base + 20;
const sitePort = base + 21;
const site = `http://127.0.0.1:${sitePort}`;
const gatewayOrigin = `http://127.0.0.1:${gatewayPort}`;

let outDir: string;
let server: Server;
let fleet: TestFleet;

test.describe.configure({ mode: 'serial' });

/**
 * deploy/static/_headers as a static host applies it: every rule whose path pattern matches adds
 * its headers; the example gateway's host is replaced by this test's gateway.
 */
function headerRules(): Array<{ prefix: string; headers: Array<[string, string]> }> {
  const text = readFileSync(path.join(root, 'deploy', 'static', '_headers'), 'utf8')
    .replaceAll('https://runner.example.org', gatewayOrigin)
    .replaceAll('wss://runner.example.org', `ws://127.0.0.1:${gatewayPort}`);
  const rules: Array<{ prefix: string; headers: Array<[string, string]> }> = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) rules.push({ prefix: line.trim().replace(/\*$/, ''), headers: [] });
    else {
      const colon = line.indexOf(':');
      rules.at(-1)!.headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
    }
  }
  return rules;
}

/** `astro build` of the site with the gateway baked in, into a folder of its own (dist/ stays the plain build). */
async function buildSite(dir: string): Promise<void> {
  const child = spawn(process.execPath, [path.join(root, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build', '--outDir', dir], {
    cwd: root,
    env: { ...process.env, PUBLIC_RUNNER_URL: `ws://127.0.0.1:${gatewayPort}/__runner` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`astro build with PUBLIC_RUNNER_URL failed (${code}): ${output}`);
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  outDir = await mkdtemp(path.join(tmpdir(), 'asynclab-fleet-site-'));
  await buildSite(outDir);
  // A static host: files as they are, nothing per page, no runner; the example _headers on top.
  const files = sirv(outDir, { dev: false, etag: true });
  const rules = headerRules();
  server = createServer((req, res) => {
    for (const rule of rules) if ((req.url ?? '').startsWith(rule.prefix)) for (const [name, value] of rule.headers) res.setHeader(name, value);
    files(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(sitePort, '127.0.0.1', resolve));
  fleet = await startTestFleet({ nodes: 1, concurrency: 2, extraEnv: { PORT: String(gatewayPort), ASYNCLAB_PUBLIC_ORIGINS: site } });
  await expect.poll(async () => (await fetch(`${gatewayOrigin}/readyz`).catch(() => undefined))?.status, { timeout: 20_000 }).toBe(200);
});

test.afterAll(async () => {
  await fleet?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

async function open(page: Page, url: string, sandbox: string) {
  await page.goto(`${site}${url}`);
  const box = page.locator(`[data-sandbox="${sandbox}"]`);
  await box.scrollIntoViewIfNeeded();
  await expect(box).toHaveAttribute('data-wired', 'true');
  return box;
}

const groupWall = async (page: Page, group: string) =>
  Number(await page.locator(`[data-sandbox="async-def-vs-def"] [data-row="current"] li[data-group="${group}"]`).getAttribute('data-wall-ms'));

test('a FastAPI sandbox runs on the hosted runner, offered first, and its timeline is drawn from the run', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = collectErrors(page);
  const box = await open(page, '/en/lessons/async-def-vs-def/', 'async-def-vs-def');
  await expect(box.locator('[data-engine]')).toHaveValue('remote');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true); // the _headers were sent
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 60_000 });
  await expect(box.locator('[data-status]')).toContainText('Ran on the hosted runner (isolated by bubblewrap)');
  const timeline = box.locator('[data-timeline]');
  await expect(timeline).toHaveAttribute('data-state', 'done');
  // The run's own row: 15 handlers (the lesson's load), beside the recorded run's row.
  expect(await timeline.locator('[data-row="current"] rect.tl-handler').count()).toBe(15);
  expect(Number(await timeline.getAttribute('data-loop-blocked-ms'))).toBeGreaterThan(4500);
  // The lesson's shape, from this run: five blocking handlers one after another (≈5 s, set by their
  // sleeps) against five overlapping ones (≈1 s, stretched by the blocked loop on a busy machine).
  const ratio = (await groupWall(page, 'GET /async-blocking')) / (await groupWall(page, 'GET /async-sleep'));
  expect(ratio).toBeGreaterThan(2.5);
  expect(ratio).toBeLessThan(6);
  expect(errors).toEqual([]);
});

test('zh: the hosted runner in the reader\'s language', async ({ page }) => {
  test.setTimeout(60_000);
  const box = await open(page, '/zh/lessons/why-async/', 'why-async-serial');
  await expect(box.locator('[data-engine] option')).toHaveText(['托管运行器', '浏览器中的 Pyodide']);
  await box.getByRole('button', { name: '运行', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 40_000 });
  await expect(box.locator('[data-status]')).toContainText('运行环境：托管运行器（由 bubblewrap 隔离）');
});

test('a live preview talks to the run\'s server on the gateway\'s origin, without a token', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = collectErrors(page);
  const previewRequests: Array<{ url: string; token: string | undefined }> = [];
  page.on('request', (r) => {
    if (r.url().includes('/__runner/preview/')) previewRequests.push({ url: r.url(), token: r.headers()['x-asynclab-token'] });
  });
  const box = await open(page, '/en/lessons/async-def-vs-def/', 'async-def-vs-def');
  await box.getByLabel('Live preview (keep the server running)').check();
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  const requests = box.locator('[data-preview-part="requests"]');
  await expect(requests).toBeVisible({ timeout: 40_000 });
  await requests.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(requests.locator('[data-preview-status]')).toContainText('200', { timeout: 20_000 });
  await expect(requests.locator('[data-preview-body]')).toContainText('"endpoint":"async def + await asyncio.sleep(1)"');
  expect(previewRequests.length).toBeGreaterThan(0);
  for (const r of previewRequests) {
    expect(new URL(r.url).origin).toBe(gatewayOrigin);
    expect(r.token).toBeUndefined();
  }
  await box.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(box).toHaveAttribute('data-preview', 'ended');
  expect(errors).toEqual([]);
});

test('a challenge is checked on a run of the hosted runner: the shipped code misses, the solution meets every goal', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = collectErrors(page);
  const box = await open(page, '/en/lessons/async-def-vs-def/', 'async-def-vs-def');
  const challenge = box.locator('[data-challenge="await-the-sleep"]');
  await expect(box.locator('[data-engine]')).toHaveValue('remote');
  await challenge.getByRole('radio').first().check();

  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 60_000 });
  await expect(box.locator('[data-status]')).toContainText('Ran on the hosted runner');
  // The goal's sentences, about this run: the five blocking handlers did not overlap.
  await expect(challenge.locator('.challenge-checklist li.challenge-miss').first()).toBeVisible();
  await expect(challenge.locator('.challenge-summary')).toHaveText(/^[0-3] of 4 goals met$/);
  await expect(challenge).not.toHaveAttribute('data-done');

  await challenge.getByRole('button', { name: 'Show solution' }).click();
  await expect(challenge.locator('.challenge-diff .monaco-diff-editor')).toBeVisible({ timeout: 15_000 });
  await challenge.getByRole('button', { name: 'Apply the solution' }).click();
  await expect(challenge.getByText('The solution is in the editor. Press Run to check it.')).toBeVisible();
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 60_000 });
  await expect(box.locator('[data-status]')).toContainText('Ran on the hosted runner');
  await expect(challenge.locator('.challenge-checklist li.challenge-ok')).toHaveCount(4);
  await expect(challenge.locator('.challenge-summary')).toHaveText('Challenge done: every goal held on your run.');
  await expect(challenge).toHaveAttribute('data-done', /.*/);
  expect(errors).toEqual([]);
});

test('a gateway that restarts (close 4000) is found again in the background: the next Run needs no reload', async ({ page }) => {
  test.setTimeout(90_000);
  const box = await open(page, '/en/lessons/why-async/', 'why-async-serial');
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 40_000 });
  await expect(box.locator('[data-status]')).toContainText('the hosted runner');
  const closed = page.waitForEvent('websocket', { timeout: 30_000 });
  await fleet.gateway.stop('SIGTERM');
  await fleet.restartGateway();
  // The page opened a new connection by itself (before any click), on the same address.
  const socket = await closed;
  expect(socket.url()).toBe(`ws://127.0.0.1:${gatewayPort}/__runner`);
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 40_000 });
  await expect(box.locator('[data-status]')).toContainText('Ran on the hosted runner');
});

test('with the gateway gone, a Python script falls back to Pyodide and says why; a FastAPI sandbox says what is wrong', async ({ page }) => {
  test.setTimeout(120_000);
  await fleet.gateway.stop('SIGTERM');
  const errors = collectErrors(page);
  const box = await open(page, '/en/lessons/why-async/', 'why-async-serial');
  await box.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(box).toHaveAttribute('data-state', 'exited', { timeout: 90_000 });
  await expect(box).toHaveAttribute('data-fallback', 'unreachable');
  await expect(box.locator('[data-console]')).toContainText('The hosted runner could not take this run (it did not answer, or it refused this page), so it runs on Pyodide in your browser instead.');
  await expect(box.locator('[data-status]')).toContainText('Ran on Pyodide in your browser');
  await expect(box.locator('[data-engine]')).toHaveValue('remote'); // the next Run tries the hosted runner again

  const server = await open(page, '/zh/lessons/async-def-vs-def/', 'async-def-vs-def');
  await server.getByRole('button', { name: '运行', exact: true }).click();
  await expect(server).toHaveAttribute('data-state', 'runner-unreachable', { timeout: 20_000 });
  await expect(server.locator('[data-status]')).toHaveText('托管运行器没有响应，或拒绝了这个页面的连接。请稍后再试，或者在本地运行 npm start。');
  // The browser logs the refused connections; nothing else (Pyodide under the CSP included) may appear.
  expect(errors.filter((e) => !/WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/__runner' failed/.test(e))).toEqual([]);
});
