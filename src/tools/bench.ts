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
 *   - fleet: the hosted fleet on this machine — FastAPI latency beside the embedded runner,
 *     sleep-bound throughput with 1–3 nodes, queue wait of 60 readers, gateway memory per
 *     connection (bench-fleet.ts); `--only fleet` runs it alone, without a build or a browser
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from '@playwright/test';
import { loadSandbox } from '../sandbox/load-sandbox.ts';
import { createSiteHandler } from '../server/site.ts';
import { benchFleet } from './bench-fleet.ts';
import { benchPyodide } from './bench-pyodide.ts';
import { benchRunner, stat, type Stat } from './bench-runner.ts';
import { starlightSite } from './bench-starlight.ts';
import { initialWeight, recordWeight, type Weight } from './bench-weight.ts';
import { chromiumArgs, chromiumPath } from './chromium.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = path.join(root, 'dist');
const lessonsDir = path.join(root, 'content', 'lessons');

/** Every sandbox's files as its lesson shows them, for the Starlight twin's code blocks. */
async function allSandboxFiles(): Promise<(id: string) => Record<string, string>> {
  const dir = path.join(root, 'sandboxes');
  const byId = new Map<string, Record<string, string>>();
  for (const id of readdirSync(dir).filter((name) => !name.startsWith('_') && !name.startsWith('.'))) {
    byId.set(id, (await loadSandbox(dir, id, root)).files);
  }
  return (id) => {
    const files = byId.get(id);
    if (!files) throw new Error(`no sandbox ${id}`);
    return files;
  };
}

interface PageRow {
  page: string;
  ours: { html: number; css: number; js: number; other: number; total: number; sandboxDataFetched: boolean };
  starlight: number | null;
  ratio: number | null;
}

/**
 * Every lesson page in both languages before any interaction (gzip bytes, fresh cache), ours
 * against the same prose built with Starlight. The Starlight side is skipped, with the reason
 * printed, when it cannot be installed or built here.
 */
async function benchPageWeight(browser: Browser, base: string): Promise<{ pages: PageRow[]; starlight: string }> {
  let twin: Awaited<ReturnType<typeof starlightSite>> | undefined;
  let starlight = 'built';
  try {
    twin = await starlightSite(root, lessonsDir, await allSandboxFiles());
  } catch (err) {
    starlight = `skipped: ${(err as Error).message}`;
    console.error(`page weight: the Starlight comparison was ${starlight}`);
  }
  const pages: PageRow[] = [];
  try {
    for (const lang of ['en', 'zh']) {
      for (const file of readdirSync(path.join(lessonsDir, lang)).filter((f) => f.endsWith('.mdx')).sort()) {
        const slug = file.replace(/^\d+-/, '').replace(/\.mdx$/, '');
        const { weight, urls } = await initialWeight(browser, `${base}/${lang}/lessons/${slug}/`);
        const theirs = twin ? (await initialWeight(browser, twin.base + twin.pageOf(lang, slug))).weight.total.gzip : null;
        const total = weight.total.gzip;
        pages.push({
          page: `/${lang}/lessons/${slug}/`,
          ours: { html: weight.html.gzip, css: weight.css.gzip, js: weight.js.gzip, other: weight.other.gzip + weight.font.gzip, total, sandboxDataFetched: urls.some((u) => u.includes('/sandbox-data/')) },
          starlight: theirs,
          ratio: theirs ? Math.round((total / theirs) * 100) / 100 : null,
        });
      }
    }
  } finally {
    await twin?.close();
  }
  return { pages, starlight };
}

/** The per-page table on stderr, for reading (stdout stays JSON). */
function printPageWeight(rows: PageRow[]): void {
  const kb = (n: number | null) => (n === null ? '—' : (n / 1024).toFixed(1));
  const lines = ['page                                          html   css    js  other  total  starlight  ratio'];
  for (const r of rows) {
    lines.push(
      `${r.page.padEnd(44)} ${kb(r.ours.html).padStart(5)} ${kb(r.ours.css).padStart(5)} ${kb(r.ours.js).padStart(5)} ${kb(r.ours.other).padStart(5)} ${kb(r.ours.total).padStart(6)} ${kb(r.starlight).padStart(9)}  ${r.ratio === null ? '—' : r.ratio.toFixed(2)}`,
    );
  }
  console.error(`page weight before any interaction, KiB gzip:\n${lines.join('\n')}`);
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

/** `--only page-weight` runs that section alone (on the dist/ there is, unless the build is asked for). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

async function main(): Promise<void> {
  if (only === 'fleet') {
    console.log(JSON.stringify({ fleet: await benchFleet() }, null, 2));
    return;
  }
  const buildMs = only && process.env.BENCH_SKIP_BUILD !== '0' ? null : timeBuild();
  const server = createServer(await createSiteHandler({ root: dist }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const pageWeight: Record<string, { initial: Weight; searchAdds: Weight }> = {};
  let lessons: Awaited<ReturnType<typeof benchPageWeight>> | undefined;
  let editor: { adds: Weight; clickToEditableMs: Stat } | undefined;
  let pyodide: Awaited<ReturnType<typeof benchPyodide>> | undefined;
  try {
    lessons = await benchPageWeight(browser, base);
    printPageWeight(lessons.pages);
    if (only === 'page-weight') {
      console.log(JSON.stringify({ buildMs, lessonPages: lessons }, null, 2));
      return;
    }
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
  const fleet = await benchFleet();
  console.log(JSON.stringify({ buildMs, lessonPages: lessons, pageWeight, editor, pyodide, pagefindIndexBytes: pagefindSizes(), runner, fleet }, null, 2));
}

await main();
