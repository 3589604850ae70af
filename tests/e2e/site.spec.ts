import { test, expect } from '@playwright/test';
import { collectErrors, langs, lessonSources } from './helpers.ts';

const lessons = lessonSources();
const htmlLang = { en: 'en', zh: 'zh-CN' } as const;

test('the root lets the reader choose a language and declares both with hreflang', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/');
  await expect(page.locator('link[rel=alternate][hreflang=en]')).toHaveAttribute('href', /\/en\/$/);
  await expect(page.locator('link[rel=alternate][hreflang=zh-CN]')).toHaveAttribute('href', /\/zh\/$/);
  await expect(page.locator('link[rel=alternate][hreflang=x-default]')).toHaveCount(1);
  await page.locator('[data-choose=zh]').click();
  await expect(page).toHaveURL(/\/zh\/$/);
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  expect(errors).toEqual([]);
});

for (const lang of langs) {
  test(`${lang}: the home page lists every lesson in order`, async ({ page }) => {
    const errors = collectErrors(page);
    await page.goto(`/${lang}/`);
    await expect(page.locator('html')).toHaveAttribute('lang', htmlLang[lang]);
    await expect(page.locator('h1')).toHaveText('AsyncLab');
    const titles = page.locator('.course-card-title');
    await expect(titles).toHaveText(lessons.map((l) => l.title[lang]));
    await titles.first().click();
    await expect(page).toHaveURL(new RegExp(`/${lang}/lessons/${lessons[0]!.slug}/$`));
    expect(errors).toEqual([]);
  });

  for (const [index, lesson] of lessons.entries()) {
    test(`${lang}: lesson "${lesson.slug}" renders with its navigation`, async ({ page }) => {
      const errors = collectErrors(page);
      const response = await page.goto(`/${lang}/lessons/${lesson.slug}/`);
      expect(response?.status()).toBe(200);
      await expect(page.locator('article h1')).toHaveText(lesson.title[lang]);
      await expect(page.locator('article h2').nth(2)).toBeVisible();
      // Sidebar: every lesson, the current one marked.
      const sidebar = page.locator('.lesson-sidebar nav');
      await expect(sidebar.locator('a')).toHaveCount(lessons.length);
      await expect(sidebar.locator('a[aria-current=page]')).toHaveText(new RegExp(escape(lesson.title[lang])));
      // On-page table of contents links to headings that exist.
      const tocLinks = page.locator('.lesson-toc nav a');
      expect(await tocLinks.count()).toBeGreaterThan(2);
      for (const href of await tocLinks.evaluateAll((as) => as.map((a) => a.getAttribute('href')!))) {
        await expect(page.locator(`[id="${decodeURIComponent(href.slice(1))}"]`)).toHaveCount(1);
      }
      // Prev/next follow the course order.
      const prev = lessons[index - 1];
      const next = lessons[index + 1];
      await expect(page.locator('.prev-next a[rel=prev]')).toHaveCount(prev ? 1 : 0);
      await expect(page.locator('.prev-next a[rel=next]')).toHaveCount(next ? 1 : 0);
      if (next) await expect(page.locator('.prev-next a[rel=next]')).toHaveAttribute('href', `/${lang}/lessons/${next.slug}/`);
      // Code is highlighted by Shiki with both themes available.
      await expect(page.locator('pre.astro-code').first()).toHaveAttribute('style', /--shiki-dark/);
      // hreflang points at both languages' copies of this lesson.
      await expect(page.locator('link[rel=alternate][hreflang=zh-CN]')).toHaveAttribute('href', new RegExp(`/zh/lessons/${lesson.slug}/$`));
      expect(errors).toEqual([]);
    });
  }
}

test('the language switch lands on the same lesson in the other language, both ways', async ({ page }) => {
  const lesson = lessons.at(-1)!;
  await page.goto(`/en/lessons/${lesson.slug}/`);
  await page.locator('[data-lang-switch]').click();
  await expect(page).toHaveURL(new RegExp(`/zh/lessons/${lesson.slug}/$`));
  await expect(page.locator('article h1')).toHaveText(lesson.title.zh);
  await page.locator('[data-lang-switch]').click();
  await expect(page).toHaveURL(new RegExp(`/en/lessons/${lesson.slug}/$`));
  await expect(page.locator('article h1')).toHaveText(lesson.title.en);
});

const searches = [
  { lang: 'zh', query: '事件循环', expected: '/zh/lessons/event-loop/' },
  { lang: 'en', query: 'event loop', expected: '/en/lessons/event-loop/' },
] as const;

for (const { lang, query, expected } of searches) {
  test(`${lang}: searching "${query}" finds the event-loop lesson, and only in ${lang}`, async ({ page }) => {
    const errors = collectErrors(page);
    await page.goto(`/${lang}/`);
    await page.locator('[data-search-trigger]').click();
    const input = page.locator('pagefind-modal input');
    await expect(input).toBeVisible();
    await input.fill(query);
    const results = page.locator('pagefind-modal pagefind-results a[href]');
    await expect(results.first()).toBeVisible();
    const hrefs = await results.evaluateAll((as) => as.map((a) => new URL((a as HTMLAnchorElement).href).pathname));
    expect(hrefs).toContain(expected);
    expect(hrefs.every((h) => h.startsWith(`/${lang}/`))).toBe(true);
    expect(errors).toEqual([]);
  });
}

test('search opens from the keyboard with /', async ({ page }) => {
  await page.goto('/en/lessons/event-loop/');
  await page.keyboard.press('/');
  await expect(page.locator('pagefind-modal input')).toBeFocused();
});

for (const { url, text, lang } of [
  { url: '/en/lessons/missing/', text: 'Page not found', lang: 'en' },
  { url: '/zh/lessons/missing/', text: '页面不存在', lang: 'zh-CN' },
  { url: '/no/such/page', text: 'Page not found', lang: 'en' },
]) {
  test(`404 for ${url} is in the right language`, async ({ page }) => {
    const response = await page.goto(url);
    expect(response?.status()).toBe(404);
    await expect(page.locator('h1')).toHaveText(text);
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
    if (url.startsWith('/no/')) await expect(page.locator('h2')).toHaveText('页面不存在');
  });
}

test('every page is cross-origin isolated (COOP/COEP on documents and assets)', async ({ page }) => {
  const documents = ['/', '/en/', '/zh/', `/zh/lessons/${lessons[0]!.slug}/`, '/en/404.html'];
  for (const url of documents) {
    const response = await page.goto(url);
    const headers = response!.headers();
    expect(headers['cross-origin-opener-policy'], url).toBe('same-origin');
    expect(headers['cross-origin-embedder-policy'], url).toBe('require-corp');
    expect(await page.evaluate(() => crossOriginIsolated), url).toBe(true);
  }
});

test('the theme follows the system, toggles, and the choice survives a reload', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`/en/lessons/${lessons[0]!.slug}/`);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const darkBg = await background();
  const toggle = page.locator('[data-theme-toggle]');
  await expect(toggle).toHaveAttribute('aria-label', 'Switch to light theme');
  await toggle.click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  const lightBg = await background();
  expect(lightBg).not.toBe(darkBg);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(await background()).toBe(lightBg);
  await expect(toggle).toHaveAttribute('aria-label', 'Switch to dark theme');
});

test('a lesson is readable on a phone: no sideways scroll, menus fold away', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  for (const lang of langs) {
    await page.goto(`/${lang}/lessons/${lessons[0]!.slug}/`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, lang).toBeLessThanOrEqual(0);
    await expect(page.locator('.lesson-sidebar')).toBeHidden();
    const menu = page.locator('.lesson-mobile-nav details.lesson-list');
    await expect(menu).toBeVisible();
    await menu.locator('summary').click();
    await expect(menu.locator('a')).toHaveCount(lessons.length);
  }
  await context.close();
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
