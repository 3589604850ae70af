/**
 * Astro links every stylesheet a page's scripts can reach, even through a dynamic
 * `import()` (withastro/astro#9495), so Monaco's ~115 kB of CSS would load on every lesson
 * page before anyone edits. This build plugin takes the CSS that Monaco's modules import
 * out of the module graph and emits it as one stylesheet; `virtual:monaco-css-url` gives
 * its URL, which the editor loader links when the editor is actually opened.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

const urlModule = 'virtual:monaco-css-url';
const marker = '\0asynclab-monaco-css:';
const relativeImport = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
const monacoImport = /['"]monaco-editor\/([^'"?]+)['"]/g;

function inlineLocalUrls(css: string, dir: string): string {
  // Only codicon.ttf is referenced relatively; data: URLs are left alone.
  return css.replace(/url\((['"]?)(\.\/[^'")]+)\1\)/g, (_m, _q, rel: string) => {
    const file = path.join(dir, rel);
    const mime = file.endsWith('.ttf') ? 'font/ttf' : 'application/octet-stream';
    return `url("data:${mime};base64,${readFileSync(file).toString('base64')}")`;
  });
}

/** Every .css file reachable from `entries` through relative imports, in first-seen order. */
function collectCss(entries: string[]): string[] {
  const seen = new Set<string>();
  const css: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    if (file.endsWith('.css')) {
      css.push(file);
      return;
    }
    for (const match of readFileSync(file, 'utf8').matchAll(relativeImport)) visit(path.resolve(path.dirname(file), match[1]!));
  };
  entries.forEach(visit);
  return css;
}

export function lazyMonacoCss(): Plugin {
  let monacoRoot: string | undefined;
  return {
    name: 'asynclab:lazy-monaco-css',
    apply: 'build',
    enforce: 'pre',
    async resolveId(source, importer) {
      if (source === urlModule && importer) return `${marker}url:${importer}`;
      if (!importer || !source.endsWith('.css') || !importer.includes(`${path.sep}monaco-editor${path.sep}`)) return null;
      // Not ending in .css, or Vite's CSS pipeline would take the stub for a stylesheet.
      return `${marker}${path.resolve(path.dirname(importer), source)}.stub.js`;
    },
    async load(id) {
      if (!id.startsWith(marker)) return null;
      if (!id.startsWith(`${marker}url:`)) return 'export {};'; // Monaco's CSS: emitted below instead
      const importer = id.slice(`${marker}url:`.length);
      const resolved = await this.resolve('monaco-editor/editor/editor.api.js', importer);
      monacoRoot ??= resolved!.id.replace(/editor[\\/]editor\.api\.js$/, '');
      const entries = [...readFileSync(importer, 'utf8').matchAll(monacoImport)].map((m) => path.join(monacoRoot!, m[1]!));
      const source = collectCss(entries)
        .map((file) => inlineLocalUrls(readFileSync(file, 'utf8'), path.dirname(file)))
        .join('\n');
      const reference = this.emitFile({ type: 'asset', name: 'monaco-editor.css', source });
      return `export default import.meta.ROLLUP_FILE_URL_${reference};`;
    },
  };
}

/** In dev Vite injects Monaco's CSS with its modules: the URL module is empty there. */
export function devMonacoCssUrl(): Plugin {
  return {
    name: 'asynclab:monaco-css-url-dev',
    apply: 'serve',
    resolveId: (source) => (source === urlModule ? `\0${urlModule}` : null),
    load: (id) => (id === `\0${urlModule}` ? 'export default "";' : null),
  };
}
