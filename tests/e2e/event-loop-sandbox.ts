/**
 * The sandbox the console tests drive (lesson 3's one-thread script), and the reader's edit
 * of it put in place before the page loads.
 */
import type { Page } from '@playwright/test';

export const lesson = (lang: 'en' | 'zh') => `/${lang}/lessons/event-loop/`;
export const id = 'event-loop-one-thread';
export const sandbox = (page: Page) => page.locator(`[data-sandbox="${id}"]`);

/** The reader's saved edit of the sandbox, in place before the page loads (as after a visit). */
export async function withCode(page: Page, code: string): Promise<void> {
  await page.addInitScript(
    ([key, value]) => localStorage.setItem(key!, value!),
    [`asynclab:sandbox:${id}`, JSON.stringify({ 'one_thread.py': code })],
  );
}
