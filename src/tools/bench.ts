/**
 * `npm run bench`: measurements we track, printed as JSON (never asserted in tests).
 *   - build: wall time of `astro build` + Pagefind (skip with BENCH_SKIP_BUILD=1 to reuse dist/)
 *   - lessonPages: every lesson page (en + zh) before any interaction, gzip and brotli,
 *     against the same prose built as a Starlight site (bench-starlight.ts), the ratio per page
 *     with min/median/max and the pages over 0.6, and what the first pointer move adds
 *     (`--only page-weight` runs this section alone; the table goes to stderr)
 *   - pageWeight: gzipped bytes of HTML/CSS/JS (and other) the event-loop lesson loads before
 *     any interaction, and what opening search adds, measured in headless Chromium
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
  /** Gzip bytes by kind (fonts with other), before any interaction. */
  ours: { html: number; css: number; js: number; other: number; total: number; sandboxDataFetched: boolean; sandboxClientFetched: boolean };
  starlight: number | null;
  /** Starlight's gzip bytes by kind: its JS includes the search UI it loads on idle, before any interaction. */
  starlightByKind: { html: number; css: number; js: number; other: number } | null;
  ratio: number | null;
  /** The same totals brotli-compressed on both sides. */
  brotli: { ours: number; starlight: number | null; ratio: number | null };
  /** Gzip bytes the reader's first pointer move (away from any sandbox) fetches on top of ours, and what. */
  firstInputAdds: { total: number; what: string[] };
}

/** The goal of issue 16: every lesson page at most this share of its Starlight twin's bytes. */
export const PAGE_WEIGHT_GOAL = 0.6;

const ratioOf = (ours: number, theirs: number | null) => (theirs ? Math.round((ours / theirs) * 100) / 100 : null);

/** What a URL is, for the first-input column: `sandbox client` (init.ts's chunk), `sandbox data`, `pyodide`, or its file name without the build's hash. */
function whatIs(url: string): string {
  const { pathname } = new URL(url);
  if (pathname.startsWith('/sandbox-data/')) return 'sandbox data';
  if (pathname.includes('pyodide')) return 'pyodide';
  const name = (pathname.split('/').pop() || pathname).replace(/[.-][\w-]{8}\.js$/, '.js');
  return name === 'init.js' ? 'sandbox client' : name;
}

export interface PageWeightSummary {
  compression: string;
  pages: number;
  min: number;
  median: number;
  max: number;
  atMostGoal: number;
  overGoal: string[];
}

/** Min, median, max of the ratios and how many pages meet the goal; null when nothing was compared. */
function summarizeRatios(rows: PageRow[], ratioOfRow: (r: PageRow) => number | null, compression: string): PageWeightSummary | null {
  const ratios = rows.map(ratioOfRow).filter((r): r is number => r !== null).sort((a, b) => a - b);
  if (!ratios.length) return null;
  const mid = ratios.length >> 1;
  return {
    compression,
    pages: ratios.length,
    min: ratios[0]!,
    median: ratios.length % 2 ? ratios[mid]! : Math.round(((ratios[mid - 1]! + ratios[mid]!) / 2) * 100) / 100,
    max: ratios[ratios.length - 1]!,
    atMostGoal: ratios.filter((r) => r <= PAGE_WEIGHT_GOAL).length,
    overGoal: rows.filter((r) => (ratioOfRow(r) ?? 0) > PAGE_WEIGHT_GOAL).map((r) => r.page),
  };
}

/**
 * Every lesson page in both languages before any interaction (fresh cache), ours against the
 * same prose built with Starlight, both measured by the same code and compressed alike (gzip
 * and brotli, whatever each server sent). Ours is served as a static host serves it (no local
 * runner), where an in-browser engine is the sandboxes' engine. The Starlight side is skipped,
 * with the reason printed, when it cannot be installed or built here; a page over the goal is
 * reported, never an error.
 */
async function benchPageWeight(browser: Browser, base: string): Promise<{ pages: PageRow[]; starlight: string; summary: { gzip: PageWeightSummary | null; brotli: PageWeightSummary | null } }> {
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
        const { weight, urls, firstInput } = await initialWeight(browser, `${base}/${lang}/lessons/${slug}/`, { firstInput: true });
        const twinWeight = twin ? (await initialWeight(browser, twin.base + twin.pageOf(lang, slug))).weight : null;
        const theirs = twinWeight?.total ?? null;
        const total = weight.total.gzip;
        pages.push({
          page: `/${lang}/lessons/${slug}/`,
          ours: {
            html: weight.html.gzip,
            css: weight.css.gzip,
            js: weight.js.gzip,
            other: weight.other.gzip + weight.font.gzip,
            total,
            sandboxDataFetched: urls.some((u) => whatIs(u) === 'sandbox data'),
            sandboxClientFetched: urls.some((u) => whatIs(u) === 'sandbox client'),
          },
          starlight: theirs?.gzip ?? null,
          starlightByKind: twinWeight ? { html: twinWeight.html.gzip, css: twinWeight.css.gzip, js: twinWeight.js.gzip, other: twinWeight.other.gzip + twinWeight.font.gzip } : null,
          ratio: ratioOf(total, theirs?.gzip ?? null),
          brotli: { ours: weight.total.brotli, starlight: theirs?.brotli ?? null, ratio: ratioOf(weight.total.brotli, theirs?.brotli ?? null) },
          firstInputAdds: { total: firstInput?.weight.total.gzip ?? 0, what: [...new Set((firstInput?.urls ?? []).map(whatIs))] },
        });
      }
    }
  } finally {
    await twin?.close();
  }
  return { pages, starlight, summary: { gzip: summarizeRatios(pages, (r) => r.ratio, 'gzip -6, both sides'), brotli: summarizeRatios(pages, (r) => r.brotli.ratio, 'brotli q11, both sides') } };
}

/** The per-page table on stderr, for reading (stdout stays JSON). */
function printPageWeight(result: Awaited<ReturnType<typeof benchPageWeight>>): void {
  const kb = (n: number | null) => (n === null ? '—' : (n / 1024).toFixed(1));
  const r2 = (n: number | null) => (n === null ? '—' : n.toFixed(2));
  const lines = ['page                                          html   css    js  other  total  starlight  ratio  br-ratio  first input adds'];
  for (const r of result.pages) {
    const flag = r.ratio !== null && r.ratio > PAGE_WEIGHT_GOAL ? ' ← over the goal' : '';
    const input = r.firstInputAdds.total ? `${kb(r.firstInputAdds.total)} (${r.firstInputAdds.what.join(', ')})` : '—';
    lines.push(
      `${r.page.padEnd(44)} ${kb(r.ours.html).padStart(5)} ${kb(r.ours.css).padStart(5)} ${kb(r.ours.js).padStart(5)} ${kb(r.ours.other).padStart(5)} ${kb(r.ours.total).padStart(6)} ${kb(r.starlight).padStart(9)}  ${r2(r.ratio).padStart(5)}  ${r2(r.brotli.ratio).padStart(8)}  ${input}${flag}`,
    );
  }
  for (const s of [result.summary.gzip, result.summary.brotli]) {
    if (s) lines.push(`${s.compression}: ratio min ${s.min.toFixed(2)} · median ${s.median.toFixed(2)} · max ${s.max.toFixed(2)} · ${s.atMostGoal}/${s.pages} pages ≤ ${PAGE_WEIGHT_GOAL}${s.overGoal.length ? ` (over: ${s.overGoal.join(', ')})` : ''}`);
  }
  if (!result.summary.gzip) lines.push(`no ratios: the Starlight comparison was ${result.starlight}`);
  console.error(`page weight before any interaction, KiB gzip (served as a static host, no runner):\n${lines.join('\n')}`);
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
    printPageWeight(lessons);
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
