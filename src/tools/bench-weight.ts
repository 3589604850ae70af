/**
 * What a page costs to load, as the browser sees it: every response it receives, summed by
 * kind, raw and gzip-compressed here (level 6, whatever the server sent), so two sites served
 * differently are measured alike. Shared by the bench's sections and the Starlight comparison.
 */
import { gzipSync } from 'node:zlib';
import type { Browser, Page, Response } from '@playwright/test';

export type Kind = 'html' | 'css' | 'js' | 'font' | 'other';
export type Weight = Record<Kind | 'total', { files: number; bytes: number; gzip: number }>;

export function emptyWeight(): Weight {
  const zero = () => ({ files: 0, bytes: 0, gzip: 0 });
  return { html: zero(), css: zero(), js: zero(), font: zero(), other: zero(), total: zero() };
}

export function kindOf(contentType: string, url = ''): Kind {
  if (contentType.includes('html')) return 'html';
  if (contentType.includes('css')) return 'css';
  if (contentType.includes('javascript')) return 'js';
  if (contentType.startsWith('font/') || /\.(woff2?|ttf|otf)(\?|$)/.test(url)) return 'font';
  return 'other';
}

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
 * The weight of one page before any interaction: a fresh context (empty cache), loaded until
 * the network is idle, nothing clicked, hovered or scrolled. `urls` lists what it fetched.
 */
export async function initialWeight(browser: Browser, url: string): Promise<{ weight: Weight; urls: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const urls: string[] = [];
  const stop = recordWeight(page, (u) => urls.push(u));
  await page.goto(url, { waitUntil: 'networkidle' });
  const weight = await stop();
  await context.close();
  return { weight, urls };
}
