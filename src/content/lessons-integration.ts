import type { AstroIntegration } from 'astro';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LessonValidationError, validateLessons } from './validate-lessons.ts';

/**
 * Checks every lesson before Astro starts (build, dev and check alike), so a broken
 * lesson stops the build with one message naming each file and field.
 */
export function lessonsPreflight(): AstroIntegration {
  return {
    name: 'asynclab:lessons-preflight',
    hooks: {
      'astro:config:setup': async ({ config }) => {
        const root = fileURLToPath(config.root);
        const problems = await validateLessons(path.join(root, 'content', 'lessons'), root);
        if (problems.length) throw new LessonValidationError(problems);
      },
    },
  };
}
