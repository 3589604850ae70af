/**
 * The yardstick for page weight: the same lessons' prose as an Astro Starlight site, the
 * documentation theme a course like this would otherwise be built with. Builds it in a
 * temporary folder (Starlight and Astro installed from the npm registry into a cache folder
 * under the system's temp dir, once), and serves it for the bench to measure each lesson page
 * the way it measures ours.
 *
 * The prose is ours unchanged; our components become what Starlight has for them: a
 * <Sandbox> becomes its files as titled code blocks (the static text a reader without
 * JavaScript sees), a <Callout> an aside. Nothing else of ours (runner, timelines) exists
 * there, which is the point: the comparison asks what our extras cost over plain docs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sirv from 'sirv';
import { parse as parseYaml } from 'yaml';

export type SandboxFilesOf = (id: string) => Record<string, string>;

const fenceLang = (name: string) => (name.endsWith('.py') ? 'python' : /\.[cm]?js$/.test(name) ? 'js' : /\.[cm]?ts$/.test(name) ? 'ts' : /\.json$/.test(name) ? 'json' : 'text');
const asideType: Record<string, string> = { note: 'note', tip: 'tip', warning: 'caution' };

/** A fence longer than any run of backticks in the code, so the code cannot close it. */
function fence(code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

/**
 * One lesson's MDX as a Starlight page: frontmatter cut to title and description, each
 * <Sandbox id> replaced by its files as code blocks, each <Callout> by an aside.
 */
export function lessonToStarlight(source: string, filesOf: SandboxFilesOf): string {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(source);
  if (!match) throw new Error('lesson has no frontmatter');
  const front = parseYaml(match[1]!) as { title: string; description?: string };
  let body = source.slice(match[0].length);
  body = body.replace(/^<Sandbox id="([^"]+)"\s*\/>\s*$/gm, (_, id: string) =>
    Object.entries(filesOf(id))
      .map(([name, code]) => {
        const f = fence(code);
        return `${f}${fenceLang(name)} title=${JSON.stringify(name)}\n${code.replace(/\n$/, '')}\n${f}`;
      })
      .join('\n\n'),
  );
  body = body.replace(/^<Callout type="(\w+)"(?: title="([^"]*)")?\s*>\s*$/gm, (_, type: string, title?: string) => `:::${asideType[type] ?? 'note'}${title ? `[${title}]` : ''}`);
  body = body.replace(/^<\/Callout>\s*$/gm, ':::');
  const head = ['---', `title: ${JSON.stringify(front.title)}`, ...(front.description ? [`description: ${JSON.stringify(front.description)}`] : []), '---', ''];
  return `${head.join('\n')}\n${body}`;
}

export interface StarlightSite {
  /** Base URL of the served site; close() stops the server and removes the temporary folder. */
  base: string;
  /** The page of a lesson: `/en/why-async/`. */
  pageOf: (lang: string, slug: string) => string;
  close: () => Promise<void>;
}

const cacheDir = path.join(os.tmpdir(), 'asynclab-starlight-bench');

const versionOf = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Installs Starlight into the cache folder, with the Astro our site builds with (both sites
 * on one compiler), unless they are already there.
 */
function ensureInstalled(projectRoot: string): void {
  const astro = versionOf(path.join(projectRoot, 'node_modules', 'astro'));
  const installed = path.join(cacheDir, 'node_modules');
  if (existsSync(path.join(installed, '@astrojs', 'starlight', 'package.json')) && versionOf(path.join(installed, 'astro')) === astro) return;
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(path.join(cacheDir, 'package.json'), JSON.stringify({ name: 'asynclab-starlight-bench', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '@astrojs/starlight', `astro@${astro}`], { cwd: cacheDir, stdio: 'pipe', timeout: 300_000 });
}

const config = `import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
export default defineConfig({
  integrations: [starlight({
    title: 'AsyncLab',
    defaultLocale: 'en',
    locales: { en: { label: 'English' }, zh: { label: '简体中文', lang: 'zh-CN' } },
  })],
});
`;
const contentConfig = `import { defineCollection } from 'astro:content';
import { docsLoader } from '@astrojs/starlight/loaders';
import { docsSchema } from '@astrojs/starlight/schema';
export const collections = { docs: defineCollection({ loader: docsLoader(), schema: docsSchema() }) };
`;

/**
 * Builds the Starlight twin of `lessonsDir` (content/lessons/{en,zh}/NN-slug.mdx) and serves it.
 * Throws with the reason when Starlight cannot be installed or built; the caller reports it.
 */
export async function starlightSite(projectRoot: string, lessonsDir: string, filesOf: SandboxFilesOf): Promise<StarlightSite> {
  ensureInstalled(projectRoot);
  // Inside the install folder, so its node_modules resolve as a project's own would (Vite bundles
  // Starlight only for a project that lists it as a dependency, and follows symlinks out of one).
  const dir = mkdtempSync(path.join(cacheDir, 'site-'));
  try {
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'starlight-twin', private: true, type: 'module', dependencies: { '@astrojs/starlight': '*', astro: '*' } }));
    writeFileSync(path.join(dir, 'astro.config.mjs'), config);
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'src', 'content.config.ts'), contentConfig);
    for (const lang of ['en', 'zh']) {
      const out = path.join(dir, 'src', 'content', 'docs', lang);
      mkdirSync(out, { recursive: true });
      for (const file of readdirSync(path.join(lessonsDir, lang)).filter((f) => f.endsWith('.mdx'))) {
        const slug = file.replace(/^\d+-/, '');
        writeFileSync(path.join(out, slug), lessonToStarlight(readFileSync(path.join(lessonsDir, lang, file), 'utf8'), filesOf));
      }
    }
    // The Starlight template's index, so the site has the home page it expects.
    writeFileSync(path.join(dir, 'src', 'content', 'docs', 'en', 'index.mdx'), '---\ntitle: AsyncLab\n---\n\nLessons.\n');
    writeFileSync(path.join(dir, 'src', 'content', 'docs', 'zh', 'index.mdx'), '---\ntitle: AsyncLab\n---\n\n课程。\n');
    execFileSync(path.join(cacheDir, 'node_modules', '.bin', 'astro'), ['build'], { cwd: dir, stdio: 'pipe', timeout: 600_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as Error & { stderr?: Buffer };
    throw new Error(`${e.message.split('\n')[0]}${e.stderr ? `: ${e.stderr.toString().trim().split('\n').slice(-3).join(' ')}` : ''}`);
  }
  const server: Server = createServer(sirv(path.join(dir, 'dist'), { dev: false, etag: true }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pageOf: (lang, slug) => `/${lang}/${slug}/`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
