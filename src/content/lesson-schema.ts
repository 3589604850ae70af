import { z } from 'astro/zod';

/**
 * Frontmatter of a lesson (`content/lessons/{lang}/NN-slug.mdx`).
 * Shared by the Astro content collection and the build's preflight check, so the
 * page templates and the error messages can never disagree about what a lesson is.
 */
export const lessonFrontmatter = z
  .object({
    title: z.string().trim().min(3).max(90),
    description: z.string().trim().min(20).max(200),
    /** Position in the course; must equal the file name's `NN-` prefix. */
    order: z.number().int().min(1).max(99),
    /** What the reader can do after the lesson; printed at the top of the page. */
    objectives: z.array(z.string().trim().min(3).max(160)).min(1).max(6),
  })
  .strict();

export type LessonFrontmatter = z.infer<typeof lessonFrontmatter>;

/** `01-why-async.mdx` → order 1, slug `why-async`. */
export const lessonFileName = /^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.mdx$/;

export interface LessonFileName {
  order: number;
  slug: string;
}

export function parseLessonFileName(fileName: string): LessonFileName | undefined {
  const match = lessonFileName.exec(fileName);
  if (!match) return undefined;
  return { order: Number(match[1]), slug: match[2]! };
}

/** The collection id Astro's glob loader gives `en/01-why-async.mdx` → `en/01-why-async`. */
export function slugFromEntryId(id: string): string {
  const fileName = id.split('/').pop() ?? id;
  const parsed = parseLessonFileName(`${fileName.replace(/\.mdx$/, '')}.mdx`);
  if (!parsed) throw new Error(`Lesson id "${id}" does not follow the NN-slug naming.`);
  return parsed.slug;
}
