// @ts-check
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import { lessonsPreflight } from './src/content/lessons-integration.ts';
import { runnerDevServer } from './src/server/dev-integration.ts';
import { satteri } from '@astrojs/markdown-satteri';
import { searchIndexPlugin } from './src/content/search-index-plugin.ts';
import { markdownFeatures } from './src/content/markdown-features.ts';
import { knownComponentsPlugin, sandboxFolderExists } from './src/content/known-components-plugin.ts';
import { lessonComponentNames } from './src/content/lesson-components.ts';
import { isolationHeaders } from './src/server/headers.ts';
import { codeThemes } from './src/styles/code-themes.ts';
import { tokenClassTransformer } from './src/styles/code-tokens.ts';
import { devMonacoCssUrl, lazyMonacoCss } from './src/tools/vite-lazy-monaco-css.ts';
import { pyodideAssets } from './src/tools/pyodide-assets.ts';
import { publicRunnerUrlCheck } from './src/tools/public-runner-url.ts';

export default defineConfig({
  site: 'https://asynclab.dev',
  // `preserve` keeps `[lang]/404.astro` as `/en/404.html`, where static hosts look for it.
  build: { format: 'preserve' },
  trailingSlash: 'ignore',
  i18n: {
    locales: ['en', 'zh'],
    defaultLocale: 'en',
    // `/` is our own language chooser, not a redirect.
    routing: { prefixDefaultLocale: true, redirectToDefaultLocale: false },
  },
  integrations: [
    lessonsPreflight(),
    runnerDevServer(),
    pyodideAssets(),
    mdx(),
  ],
  markdown: {
    // Sätteri is Astro 7's Markdown/MDX pipeline; MDX inherits this processor.
    processor: satteri({
      // Smart quotes and ellipses, never `--` → en dash (see markdown-features.ts).
      features: markdownFeatures,
      hastPlugins: [searchIndexPlugin()],
      mdastPlugins: [
        knownComponentsPlugin({
          allowed: lessonComponentNames,
          sandboxExists: sandboxFolderExists(fileURLToPath(new URL('.', import.meta.url))),
          appliesTo: (file) => file.split(path.sep).join('/').includes('/content/lessons/'),
        }),
      ],
    }),
    shikiConfig: {
      themes: codeThemes,
      // Both themes are emitted as CSS variables; global.css picks one per theme.
      defaultColor: false,
      wrap: false,
      // Token colours as shared classes, not thousands of inline styles (code-tokens.ts).
      transformers: [tokenClassTransformer()],
    },
  },
  // Cross-origin isolation in dev and preview too (WebContainers need it).
  server: { headers: isolationHeaders },
  devToolbar: { enabled: false },
  vite: {
    plugins: [lazyMonacoCss(), devMonacoCssUrl(), publicRunnerUrlCheck()],
    build: {
      rollupOptions: {
        onwarn(warning, warn) {
          // Known, harmless Astro 7 + Rolldown noise on every MDX page (withastro/astro#18087).
          if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && warning.message.includes('astro:head-inject')) return;
          warn(warning);
        },
      },
    },
  },
});
