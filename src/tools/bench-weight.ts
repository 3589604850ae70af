/**
 * What a page costs to load, as the browser sees it: every response it receives, summed by
 * kind, raw and compressed here (gzip level 6 and brotli quality 11, whatever the server
 * sent), so two sites served differently are measured alike. Shared by the bench's sections
 * and the Starlight comparison.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Browser, Page, Response } from '@playwright/test';

export type Kind = 'html' | 'css' | 'js' | 'font' | 'other';
export interface Bucket {
  files: number;
  bytes: number;
  gzip: number;
  brotli: number;
}
export type Weight = Record<Kind | 'total', Bucket>;

export function emptyWeight(): Weight {
  const zero = (): Bucket => ({ files: 0, bytes: 0, gzip: 0, brotli: 0 });
  return { html: zero(), css: zero(), js: zero(), font: zero(), other: zero(), total: zero() };
}

export function kindOf(contentType: string, url = ''): Kind {
  if (contentType.includes('html')) return 'html';
  if (contentType.includes('css')) return 'css';
  if (contentType.includes('javascript')) return 'js';
  if (contentType.startsWith('font/') || /\.(woff2?|ttf|otf)(\?|$)/.test(url)) return 'font';
  return 'other';
}

/** Brotli at its best quality, as a build would precompress; a multi-megabyte engine file at 5 (q11 takes minutes on it). */
const brotli = (body: Buffer) => brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: body.length > 1 << 20 ? 5 : 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }).length;

/** Records every response a page receives until the returned function is called, and sums it by kind. */
export function recordWeight(page: Page, onUrl?: (url: string) => void): () => Promise<Weight> {
  const pending: Promise<void>[] = [];
  const weight = emptyWeight();
  const onResponse = (response: Response) => {
    onUrl?.(response.url());
    pending.push(
      response
        .body()
        .then((body) => {
          const kind = kindOf(response.headers()['content-type'] ?? '', response.url());
          const gzip = gzipSync(body).length;
          const br = brotli(body);
          for (const bucket of [weight[kind], weight.total]) {
            bucket.files += 1;
            bucket.bytes += body.length;
            bucket.gzip += gzip;
            bucket.brotli += br;
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
 * Resolves once no request has been in flight for `quietMs` (or after `maxMs`): what
 * `networkidle` says for a load, for what an input sets off later in the page's life.
 */
async function settled(page: Page, quietMs = 700, maxMs = 60_000): Promise<void> {
  let inFlight = 0;
  let last = Date.now();
  const begin = () => {
    inFlight += 1;
    last = Date.now();
  };
  const end = () => {
    inFlight = Math.max(0, inFlight - 1);
    last = Date.now();
  };
  page.on('request', begin);
  page.on('requestfinished', end);
  page.on('requestfailed', end);
  const deadline = Date.now() + maxMs;
  try {
    while (Date.now() < deadline && (inFlight > 0 || Date.now() - last < quietMs)) await page.waitForTimeout(100);
  } finally {
    page.off('request', begin);
    page.off('requestfinished', end);
    page.off('requestfailed', end);
  }
}

export interface InitialWeight {
  weight: Weight;
  /** What the page fetched before any interaction. */
  urls: string[];
  /**
   * Asked with `firstInput`: what the reader's first sign of life (the pointer moving over the
   * page's header, away from any sandbox) fetches on top, and which URLs.
   */
  firstInput?: { weight: Weight; urls: string[] };
}

/**
 * The weight of one page before any interaction: a fresh context (empty cache), loaded until
 * the network is idle and then quiet for a while longer (a page may fetch on idle: Starlight
 * loads its search UI so, which a busy machine can push past `networkidle`), nothing clicked,
 * hovered or scrolled. `urls` lists what it fetched.
 */
export async function initialWeight(browser: Browser, url: string, options: { firstInput?: boolean } = {}): Promise<InitialWeight> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const urls: string[] = [];
  const stop = recordWeight(page, (u) => urls.push(u));
  await page.goto(url, { waitUntil: 'networkidle' });
  await settled(page, 1500);
  const weight = await stop();
  let firstInput: InitialWeight['firstInput'];
  if (options.firstInput) {
    const later: string[] = [];
    const stopLater = recordWeight(page, (u) => later.push(u));
    await page.mouse.move(40, 20);
    await page.mouse.move(60, 24);
    await settled(page);
    firstInput = { weight: await stopLater(), urls: later };
  }
  await context.close();
  return { weight, urls, ...(firstInput ? { firstInput } : {}) };
}
