import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Locator, Page } from '@playwright/test';

export const langs = ['en', 'zh'] as const;
export type Lang = (typeof langs)[number];

export interface LessonSource {
  slug: string;
  title: Record<Lang, string>;
}

const lessonsDir = path.resolve(import.meta.dirname, '..', '..', 'content', 'lessons');

/** The lessons as the source tree has them, so the tests follow the course as it grows. */
export function lessonSources(): LessonSource[] {
  return readdirSync(path.join(lessonsDir, 'en'))
    .filter((f) => /^\d{2}-.+\.mdx$/.test(f))
    .sort()
    .map((file) => {
      const title = (lang: Lang) => {
        const source = readFileSync(path.join(lessonsDir, lang, file), 'utf8');
        return (parse(source.split(/^---$/m)[1]!) as { title: string }).title;
      };
      return { slug: file.replace(/^\d{2}-/, '').replace(/\.mdx$/, ''), title: { en: title('en'), zh: title('zh') } };
    });
}

/** Every console error and uncaught exception a page produces while the test runs. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

/**
 * The sandbox client loads when the reader nears a sandbox (src/client/sandbox/boot.ts), not
 * with the page: scroll the first sandbox into view, as a reader would, and wait until the
 * page's sandboxes are wired. For tests that read what the client sets before touching anything.
 */
export async function nearSandboxes(page: Page): Promise<void> {
  await page.locator('[data-sandbox]').first().scrollIntoViewIfNeeded();
  await page.locator('[data-sandbox][data-wired]').first().waitFor({ state: 'attached' });
}

/**
 * Types `to` over `from` in a sandbox's open Monaco editor as a reader would: click into the
 * code, find `from` (Ctrl+F), close the finder and type over the selected match.
 */
export async function typeOver(page: Page, box: Locator, from: string, to: string): Promise<void> {
  await box.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+F');
  await page.keyboard.type(from);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await page.keyboard.type(to);
}
