import { getCollection, type CollectionEntry } from 'astro:content';
import type { Locale } from '../i18n/locales.ts';
import { slugFromEntryId } from '../content/lesson-schema.ts';

export interface Lesson {
  slug: string;
  locale: Locale;
  order: number;
  title: string;
  description: string;
  objectives: string[];
  entry: CollectionEntry<'lessons'>;
}

/** The course in one language, in reading order. */
export async function getLessons(locale: Locale): Promise<Lesson[]> {
  const entries = await getCollection('lessons', (e) => e.id.startsWith(`${locale}/`));
  return entries
    .map((entry) => ({
      slug: slugFromEntryId(entry.id),
      locale,
      order: entry.data.order,
      title: entry.data.title,
      description: entry.data.description,
      objectives: entry.data.objectives,
      entry,
    }))
    .sort((a, b) => a.order - b.order);
}
