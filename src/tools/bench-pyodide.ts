/**
 * The Pyodide engine on a static host (the site without a runner), measured the way a
 * reader meets it, on lesson 3's first Python sandbox (two tasks, 0.3 s of awaited sleeps):
 *   - clickAtLoad: a fresh profile (empty HTTP cache); Run is clicked as soon as the page has
 *     wired it — click → running (the boot) and click → exited; bytes the engine fetched
 *     (as sent, i.e. compressed) and its boot steps (the worker's User Timing measures);
 *   - cachedClickAtLoad: the same on a reload (a returning reader: warm HTTP cache);
 *   - prewarmed: the reader scrolls to the sandbox, reads for a while, then clicks Run;
 *   - rerun: Run again on a warm page: click → running (the start) and click → exited.
 * Medians of several samples (the machine is shared: compare medians, not single runs).
 *
 *   node src/tools/bench-pyodide.ts          (after `npm run build`; also part of `npm run bench`)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { createSiteHandler } from '../server/site.ts';
import { stat, type Stat } from './bench-runner.ts';
import { chromiumArgs, chromiumPath } from './chromium.ts';

const lesson = '/en/lessons/event-loop/';
const selector = '[data-sandbox][data-engine="pyodide"]';

interface RunTimes {
  toRunningMs: number;
  toExitMs: number;
}

/** Waits for the first Pyodide sandbox to be wired, clicks Run, and times it on the page's clock. */
function clickRun(page: Page): Promise<RunTimes> {
  return page.evaluate(async (sel) => {
    const sleep = () => new Promise((resolve) => setTimeout(resolve, 2));
    let root = document.querySelector<HTMLElement>(sel);
    while (!root?.dataset.wired) {
      await sleep();
      root = document.querySelector<HTMLElement>(sel);
    }
    const button = root.querySelector<HTMLButtonElement>('[data-action="run"]')!;
    while (button.disabled) await sleep();
    const until = async (state: string) => {
      while (root.dataset.state !== state) await sleep();
      return performance.now();
    };
    const started = performance.now();
    button.click();
    const running = await until('running');
    const exited = await until('exited');
    return { toRunningMs: running - started, toExitMs: exited - started };
  }, selector);
}

/** The worker's boot steps, as the engine recorded them on the page (ms). */
function bootPhases(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() =>
    Object.fromEntries(
      performance
        .getEntriesByType('measure')
        .filter((m) => m.name.startsWith('pyodide: '))
        .map((m) => [m.name.slice('pyodide: '.length), Math.round(m.duration)]),
    ),
  );
}

/** Bytes each pyodide asset took on the wire (compressed body), by file name. */
function recordWire(page: Page) {
  const bytes: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const onFinished = (request: import('@playwright/test').Request) => {
    if (!request.url().includes('/_pyodide/')) return;
    pending.push(
      request.sizes().then(
        (s) => void (bytes[request.url().slice(request.url().lastIndexOf('/') + 1)] = Math.max(0, s.responseBodySize)), // -1: from the HTTP cache
        () => undefined,
      ),
    );
  };
  page.context().on('requestfinished', onFinished);
  return async () => {
    page.context().off('requestfinished', onFinished);
    await Promise.all(pending);
    return { total: Object.values(bytes).reduce((a, b) => a + b, 0), files: bytes };
  };
}

function statOf(runs: RunTimes[]): { toRunningMs: Stat; toExitMs: Stat } {
  return { toRunningMs: stat(runs.map((r) => r.toRunningMs)), toExitMs: stat(runs.map((r) => r.toExitMs)) };
}

/** Median of each phase over samples. */
function medianPhases(samples: Array<Record<string, number>>): Record<string, number> {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s)))];
  return Object.fromEntries(names.map((n) => [n, stat(samples.map((s) => s[n]).filter((v): v is number => v !== undefined)).medianMs]));
}

export async function benchPyodide(browser: Browser, base: string, samples = { cold: 3, cached: 5, rerun: 10 }) {
  const url = base + lesson;
  const cold: RunTimes[] = [];
  const coldPhases: Array<Record<string, number>> = [];
  let wire: Awaited<ReturnType<ReturnType<typeof recordWire>>> | undefined;
  for (let i = 0; i < samples.cold; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const stop = recordWire(page);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    cold.push(await clickRun(page));
    coldPhases.push(await bootPhases(page));
    wire ??= await stop();
    await context.close();
  }

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await clickRun(page); // fills the HTTP cache
  const cached: RunTimes[] = [];
  const cachedPhases: Array<Record<string, number>> = [];
  const rerun: RunTimes[] = [];
  for (let i = 0; i < samples.cached; i++) {
    const stop = recordWire(page);
    await page.reload({ waitUntil: 'domcontentloaded' });
    cached.push(await clickRun(page));
    cachedPhases.push(await bootPhases(page));
    if (i === 0) wire = { ...wire!, ...{ cachedTotal: (await stop()).total } };
    else await stop();
  }
  for (let i = 0; i < samples.rerun; i++) rerun.push(await clickRun(page));

  // A reader who scrolls to the sandbox and reads before clicking.
  const prewarmed: RunTimes[] = [];
  for (let i = 0; i < samples.cached; i++) {
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.locator(selector).first().scrollIntoViewIfNeeded();
    await page.waitForFunction(() => performance.getEntriesByName('pyodide: harness').length > 0, undefined, { timeout: 60_000 }).catch(() => undefined);
    prewarmed.push(await clickRun(page));
  }
  await context.close();
  return {
    wireBytes: wire,
    clickAtLoad: { ...statOf(cold), phases: medianPhases(coldPhases) },
    cachedClickAtLoad: { ...statOf(cached), phases: medianPhases(cachedPhases) },
    prewarmed: statOf(prewarmed),
    rerun: statOf(rerun),
  };
}

if (import.meta.main) {
  const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
  const server = createServer(await createSiteHandler({ root: dist }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    const n = Number(process.env.BENCH_SAMPLES ?? 0);
    console.log(JSON.stringify(await benchPyodide(browser, base, n ? { cold: n, cached: n, rerun: 2 * n } : undefined), null, 2));
  } finally {
    await browser.close();
    server.close();
  }
}
