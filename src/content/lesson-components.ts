/**
 * The components a lesson may use in MDX without importing them. The lesson page
 * provides exactly these (its component map is typed against this list), and the
 * build rejects any other capitalised tag, so a typo fails loudly instead of
 * rendering nothing.
 */
export const lessonComponentNames = ['Callout', 'Sandbox'] as const;
export type LessonComponentName = (typeof lessonComponentNames)[number];
