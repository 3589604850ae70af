/**
 * Astro links every stylesheet a page's scripts can reach, even through a dynamic
 * `import()` (withastro/astro#9495), so Monaco's ~115 kB of CSS would load on every lesson
 * page before anyone edits. This build plugin takes the CSS that Monaco's modules import
 * out of the module graph and emits it as one stylesheet; `virtual:monaco-css-url` gives
 * its URL, which the editor loader links when the editor is actually opened.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

const urlModule = 'virtual:monaco-css-url';
const marker = '\0asynclab-monaco-css:';
const relativeImport = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
const monacoImport = /['"]monaco-editor\/([^'"?]+)['"]/g;

/**
 * Monaco's CSS refers to one file beside it, codicon.ttf (153 kB: the find widget's buttons,
 * the diff's + and −). It is emitted as a file of its own next to the stylesheet, named by
 * its content, not inlined: a browser fetches a font only when a glyph of it is drawn, so a
 * reader who never opens the finder or a solution's diff never downloads it. data: URLs are
 * left alone.
 */
function emitLocalUrls(css: string, dir: string, emit: (fileName: string, source: Buffer) => void): string {
  return css.replace(/url\((['"]?)(\.\/[^'")]+)\1\)/g, (_m, _q, rel: string) => {
    const source = readFileSync(path.join(dir, rel));
    const { name, ext } = path.parse(rel);
    const fileName = `${name}.${createHash('sha256').update(source).digest('base64url').slice(0, 8)}${ext}`;
    // Written into the stylesheet's own folder (generateBundle), so the URL stays relative.
    emit(fileName, source);
    return `url("./${fileName}")`;
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
  // The files a stylesheet refers to, written beside it once its hashed name is known.
  const besideStylesheet: Array<{ reference: string; files: Map<string, Buffer> }> = [];
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
      const files = new Map<string, Buffer>();
      const source = collectCss(entries)
        .map((file) => emitLocalUrls(readFileSync(file, 'utf8'), path.dirname(file), (name, bytes) => files.set(name, bytes)))
        .join('\n');
      const reference = this.emitFile({ type: 'asset', name: 'monaco-editor.css', source });
      besideStylesheet.push({ reference, files });
      return `export default import.meta.ROLLUP_FILE_URL_${reference};`;
    },
    generateBundle() {
      for (const { reference, files } of besideStylesheet.splice(0)) {
        const dir = path.posix.dirname(this.getFileName(reference));
        for (const [name, source] of files) this.emitFile({ type: 'asset', fileName: path.posix.join(dir, name), source });
      }
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
