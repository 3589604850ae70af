/**
 * `npm run bench`: measurements we track, printed as JSON (never asserted in tests).
 *   - build: wall time of `astro build` + Pagefind (skip with BENCH_SKIP_BUILD=1 to reuse dist/)
 *   - pageWeight: gzipped bytes of HTML/CSS/JS (and other) a lesson page loads before any
 *     interaction, and what opening search adds, measured in headless Chromium
 *   - pagefind: index bytes per language on disk
 *   - editor: bytes opening Monaco adds, and click → editable Monaco (warm cache)
 *   - pyodide: the in-browser Python engine on a static host (no runner): bytes on the wire,
 *     click at page load → exit (empty and warm HTTP cache) with its boot steps, a prewarmed
 *     first run, and a warm re-run's start (bench-pyodide.ts)
 *   - runner: start → first stdout (Python script), start → ready and → last of 5 responses
 *     (FastAPI server), tracing overhead on a gather of 100 tasks, and the interpreter
 *     floors (bench-runner.ts)
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from '@playwright/test';
import { createSiteHandler } from '../server/site.ts';
import { benchPyodide } from './bench-pyodide.ts';
import { benchRunner, stat, type Stat } from './bench-runner.ts';
import { chromiumArgs, chromiumPath } from './chromium.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = path.join(root, 'dist');

type Kind = 'html' | 'css' | 'js' | 'other';
type Weight = Record<Kind | 'total', { files: number; bytes: number; gzip: number }>;

function emptyWeight(): Weight {
  const zero = () => ({ files: 0, bytes: 0, gzip: 0 });
  return { html: zero(), css: zero(), js: zero(), other: zero(), total: zero() };
}

function kindOf(contentType: string): Kind {
  if (contentType.includes('html')) return 'html';
  if (contentType.includes('css')) return 'css';
  if (contentType.includes('javascript')) return 'js';
  return 'other';
}

/** Records every response a page receives until `stop()` and sums it by kind. */
function recordWeight(page: Page) {
  const pending: Promise<void>[] = [];
  const weight = emptyWeight();
  const onResponse = (response: import('@playwright/test').Response) => {
    pending.push(
      response
        .body()
        .then((body) => {
          const kind = kindOf(response.headers()['content-type'] ?? '');
          const gzip = gzipSync(body).length;
          for (const bucket of [weight[kind], weight.total]) {
            bucket.files += 1;
            bucket.bytes += body.length;
            bucket.gzip += gzip;
          }
        })
        .catch(() => undefined),
    );
  };
  page.on('response', onResponse);
  return async () => {
    page.off('response', onResponse);
    await Promise.all(pending);
    return weight;
  };
}

/**
 * What opening the editor costs: the bytes it adds to a lesson page, and the time from a
 * click on Edit to a Monaco that takes keystrokes, with a warm HTTP cache (median of 7).
 */
async function benchEditor(browser: import('@playwright/test').Browser, url: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'networkidle' });
  const box = page.locator('[data-sandbox]').first();
  const stop = recordWeight(page);
  await box.locator('[data-action="edit"]').click();
  await page.waitForFunction((root) => (root as HTMLElement).dataset.editor === 'ready', await box.elementHandle());
  await page.waitForLoadState('networkidle');
  const adds = await stop();
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    await page.evaluate(() => localStorage.clear());
    await page.reload({ waitUntil: 'networkidle' });
    samples.push(
      await page.evaluate(async () => {
        const root = document.querySelector<HTMLElement>('[data-sandbox]')!;
        const started = performance.now();
        root.querySelector<HTMLButtonElement>('[data-action="edit"]')!.click();
        // Editable = Monaco has the keyboard focus (a textarea, or an EditContext element).
        while (!document.activeElement?.closest('.monaco-editor') || !root.contains(document.activeElement)) {
          await new Promise((resolve) => requestAnimationFrame(resolve));
        }
        return performance.now() - started;
      }),
    );
  }
  await context.close();
  return { adds, clickToEditableMs: stat(samples) };
}

function timeBuild(): number | null {
  if (process.env.BENCH_SKIP_BUILD === '1') return null;
  const started = performance.now();
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  return Math.round(performance.now() - started);
}

function pagefindSizes(): Record<string, number> {
  const dir = path.join(dist, 'pagefind');
  const sizes: Record<string, number> = {};
  const add = (lang: string, file: string) => (sizes[lang] = (sizes[lang] ?? 0) + statSync(file).size);
  for (const sub of ['index', 'fragment']) {
    for (const name of readdirSync(path.join(dir, sub))) add(name.split('_')[0]!, path.join(dir, sub, name));
  }
  for (const name of readdirSync(dir)) {
    const meta = /^pagefind\.(.+)_[0-9a-f]+\.pf_meta$/.exec(name);
    if (meta) add(meta[1]!, path.join(dir, name));
  }
  return sizes;
}

async function main(): Promise<void> {
  const buildMs = timeBuild();
  const server = createServer(await createSiteHandler({ root: dist }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const pageWeight: Record<string, { initial: Weight; searchAdds: Weight }> = {};
  let editor: { adds: Weight; clickToEditableMs: Stat } | undefined;
  let pyodide: Awaited<ReturnType<typeof benchPyodide>> | undefined;
  try {
    for (const url of ['/en/lessons/event-loop/', '/zh/lessons/event-loop/']) {
      const page = await browser.newPage();
      const stopInitial = recordWeight(page);
      await page.goto(base + url, { waitUntil: 'networkidle' });
      const initial = await stopInitial();
      const stopSearch = recordWeight(page);
      await page.locator('[data-search-trigger]').click();
      await page.locator('pagefind-modal input').fill(url.startsWith('/zh') ? '事件循环' : 'event loop');
      await page.locator('pagefind-modal pagefind-results a[href]').first().waitFor();
      await page.waitForLoadState('networkidle');
      pageWeight[url] = { initial, searchAdds: await stopSearch() };
      await page.close();
    }
    editor = await benchEditor(browser, `${base}/en/lessons/event-loop/`);
    pyodide = await benchPyodide(browser, base);
  } finally {
    await browser.close();
    server.close();
  }
  const runner = await benchRunner();
  console.log(JSON.stringify({ buildMs, pageWeight, editor, pyodide, pagefindIndexBytes: pagefindSizes(), runner }, null, 2));
}

await main();
