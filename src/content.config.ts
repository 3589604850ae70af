import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { lessonFrontmatter } from './content/lesson-schema.ts';

const lessons = defineCollection({
  loader: glob({ pattern: '{en,zh}/[0-9][0-9]-*.mdx', base: './content/lessons' }),
  schema: lessonFrontmatter,
});

export const collections = { lessons };
