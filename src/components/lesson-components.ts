import Callout from './Callout.astro';
import Sandbox from './Sandbox.astro';
import type { LessonComponentName } from '../content/lesson-components.ts';

/** What lesson MDX can use without imports. Typed against the list the build checks MDX with. */
export const lessonComponents: Record<LessonComponentName, unknown> = { Callout, Sandbox };
