import type { Locale } from '../i18n/locales.ts';

/** Every URL the site links to is built here, so routes change in one place. */
export const homePath = (locale: Locale): string => `/${locale}/`;
export const lessonPath = (locale: Locale, slug: string): string => `/${locale}/lessons/${slug}/`;
export const glossaryPath = (locale: Locale): string => `/${locale}/glossary/`;
