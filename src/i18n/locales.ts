/**
 * The site's languages. Every route, lesson and UI string exists once per locale;
 * the type makes a missing translation a compile error rather than a blank on the page.
 */
export const locales = ['en', 'zh'] as const;
export type Locale = (typeof locales)[number];

export const defaultLocale: Locale = 'en';

/** BCP 47 tag written into `<html lang>`; Pagefind builds one index per tag. */
export const htmlLang: Record<Locale, string> = { en: 'en', zh: 'zh-CN' };

/** Each language's own name, as a reader of that language would look for it. */
export const localeName: Record<Locale, string> = { en: 'English', zh: '简体中文' };

export function isLocale(value: string | undefined): value is Locale {
  return (locales as readonly string[]).includes(value ?? '');
}

export function otherLocale(locale: Locale): Locale {
  return locale === 'en' ? 'zh' : 'en';
}
