/** Shiki themes for code, light and dark. Chosen for WCAG AA token contrast on their own backgrounds. */
export const codeThemes = { light: 'github-light-default', dark: 'github-dark-default' } as const;
