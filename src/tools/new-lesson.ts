/**
 * `npm run new:lesson -- <slug> [--order NN] [--root <dir>]`: scaffolds a lesson in both
 * languages and its first sandbox, all valid from the start, so the author begins from
 * something that builds:
 *
 *   content/lessons/en/NN-<slug>.mdx     frontmatter, an intro, one section, ## Try this
 *   content/lessons/zh/NN-<slug>.mdx     the same skeleton in Chinese (## 动手试试)
 *   sandboxes/<slug>-example/            sandbox.json (with an expect) + main.py
 *
 * NN is one past the highest order used in either language unless --order says otherwise.
 * It refuses a bad slug, a slug or order already taken, and any file that exists: it never
 * overwrites anything. The frontmatter and manifest are checked against the same schemas
 * the build uses before anything is written.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { lessonFrontmatter, parseLessonFileName, type LessonFrontmatter } from '../content/lesson-schema.ts';
import { locales, type Locale } from '../i18n/locales.ts';
import { sandboxIdPattern, sandboxManifest, type SandboxManifestInput } from '../protocol/manifest.ts';

export class NewLessonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NewLessonError';
  }
}

export interface NewLessonOptions {
  /** The project folder holding content/ and sandboxes/. */
  root: string;
  slug: string;
  /** Place in the course; default: one past the highest order in use. */
  order?: number | undefined;
}

export interface NewLessonResult {
  order: number;
  sandboxId: string;
  /** Every file written, relative to the root. */
  files: string[];
}

const maxSlugLength = 50;

export async function newLesson({ root, slug, order: wantedOrder }: NewLessonOptions): Promise<NewLessonResult> {
  if (!sandboxIdPattern.test(slug) || slug.length < 3 || slug.length > maxSlugLength) {
    throw new NewLessonError(
      `"${slug}" is not a usable slug: use 3–${maxSlugLength} lowercase letters and digits, words joined by single dashes (e.g. lifespan-and-middleware)`,
    );
  }
  const lessonsDir = path.join(root, 'content', 'lessons');
  const existing: { locale: Locale; name: string; order: number; slug: string }[] = [];
  for (const locale of locales) {
    const dir = path.join(lessonsDir, locale);
    for (const name of existsSync(dir) ? await readdir(dir) : []) {
      const parsed = parseLessonFileName(name);
      if (parsed) existing.push({ locale, name, ...parsed });
    }
  }
  const sameSlug = existing.find((l) => l.slug === slug);
  if (sameSlug) throw new NewLessonError(`a lesson with the slug "${slug}" exists already: content/lessons/${sameSlug.locale}/${sameSlug.name}`);

  const order = wantedOrder ?? Math.max(0, ...existing.map((l) => l.order)) + 1;
  if (!Number.isInteger(order) || order < 1 || order > 99) throw new NewLessonError(`order must be a whole number from 1 to 99, not ${wantedOrder ?? order}`);
  const sameOrder = existing.find((l) => l.order === order);
  if (sameOrder) throw new NewLessonError(`order ${order} is taken by content/lessons/${sameOrder.locale}/${sameOrder.name}; pick another with --order`);

  const fileName = `${String(order).padStart(2, '0')}-${slug}.mdx`;
  const sandboxId = `${slug}-example`;
  const sandboxDir = path.join(root, 'sandboxes', sandboxId);
  const title = slug.charAt(0).toUpperCase() + slug.slice(1).replaceAll('-', ' ');

  const planned: [string, string][] = [];
  for (const locale of locales) planned.push([path.join(lessonsDir, locale, fileName), lessonText(locale, { title, order, sandboxId })]);
  planned.push([path.join(sandboxDir, 'sandbox.json'), `${JSON.stringify(manifestFor(sandboxId, title), null, 2)}\n`]);
  planned.push([path.join(sandboxDir, 'main.py'), examplePython]);

  const rel = (p: string) => path.relative(root, p).split(path.sep).join('/');
  if (existsSync(sandboxDir)) throw new NewLessonError(`${rel(sandboxDir)}/ exists already; nothing was written`);
  const taken = planned.map(([p]) => p).filter((p) => existsSync(p));
  if (taken.length) throw new NewLessonError(`${taken.map(rel).join(', ')} exist(s) already; nothing was written`);

  await mkdir(sandboxDir, { recursive: true });
  for (const locale of locales) await mkdir(path.join(lessonsDir, locale), { recursive: true });
  // `wx`: fail rather than overwrite, even if a file appeared since the check above.
  for (const [file, text] of planned) await writeFile(file, text, { flag: 'wx' });
  return { order, sandboxId, files: planned.map(([p]) => rel(p)) };
}

interface Skeleton {
  title: string;
  order: number;
  sandboxId: string;
}

function lessonText(locale: Locale, { title, order, sandboxId }: Skeleton): string {
  const frontmatter: LessonFrontmatter =
    locale === 'en'
      ? {
          title,
          description: 'TODO: one sentence for the course list and search engines (20–200 characters).',
          order,
          objectives: ['TODO: something the reader can do after this lesson', 'TODO: a second one (2–4 in all)'],
        }
      : {
          title: `${title}（TODO：中文标题）`,
          description: 'TODO：用一句话概括本课，显示在课程列表和搜索结果里（20–200 个字符）。',
          order,
          objectives: ['TODO：读完本课后读者能做到的一件事', 'TODO：再写一条（共 2–4 条）'],
        };
  // The build's own schema: a scaffold that would not build is a bug in this tool.
  lessonFrontmatter.parse(frontmatter);
  const head = `---\n${toYaml(frontmatter, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 })}---\n`;
  if (locale === 'en') {
    return `${head}
TODO: open with the problem the reader meets in a real service. Link the first use of each glossary term, e.g. the [event loop](../../glossary/#event-loop).

## The idea

TODO: explain one idea, then let the sandbox show it. Point at what the timeline shows: "the two task lanes start together and end together".

<Sandbox id="${sandboxId}" />

\`\`\`text
TODO: the numbers your recorded run printed, rounded
\`\`\`

<Callout type="tip" title="TODO: a title">

TODO: a trap worth a box of its own (blank lines inside the component, as here).

</Callout>

## Try this

TODO: an edit to \`${sandboxId}\` whose effect is visible in the timeline. Ask the reader to predict the result, make the edit, press Run, and compare with the previous-run row the timeline keeps.
`;
  }
  return `${head}
TODO：从读者在真实服务里会遇到的问题讲起。每个术语第一次出现时链接到术语表，例如[事件循环](../../glossary/#event-loop)。

## 核心概念

TODO：讲清一个概念，再用沙盒演示。指出时间线上能看到什么：“两条任务泳道同时开始、同时结束”。

<Sandbox id="${sandboxId}" />

\`\`\`text
TODO：录制运行打印的数字（取整）
\`\`\`

<Callout type="tip" title="TODO：标题">

TODO：值得单独提醒的陷阱（组件内部要留空行，如此处）。

</Callout>

## 动手试试

TODO：对 \`${sandboxId}\` 做一处修改，效果要能在时间线上看到。请读者先预测结果，再修改、点击运行，并与时间线保留的上一次运行对比。
`;
}

function manifestFor(id: string, title: string): SandboxManifestInput {
  const manifest: SandboxManifestInput = {
    id,
    title: { en: `${title}: a first example`, zh: `${title}：示例` },
    language: 'python',
    kind: 'script',
    entry: 'main.py',
    needs: [],
    expect: {
      exitCode: 0,
      concurrent: { lane: 'task', match: 'fake_io', min: 2 },
      wallMs: { min: 250, max: 1500 },
      stdoutIncludes: ['both done'],
    },
  };
  sandboxManifest.parse(manifest); // the runner's and the site's schema
  return manifest;
}

const examplePython = `# main.py: a starting point; replace it with the lesson's own example
import asyncio
import time


async def fake_io(name: str, seconds: float) -> str:
    await asyncio.sleep(seconds)  # stands in for a network or database wait
    return name


async def main() -> None:
    started = time.perf_counter()
    results = await asyncio.gather(fake_io("a", 0.3), fake_io("b", 0.3))
    print(f"both done: {results} in {time.perf_counter() - started:.2f} s")


asyncio.run(main())
`;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function main(): Promise<void> {
  const usage = 'usage: npm run new:lesson -- <slug> [--order NN] [--root <dir>]';
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { order: { type: 'string' }, root: { type: 'string' } } });
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error(usage);
    process.exit(2);
  }
  if (values.order !== undefined && !/^\d{1,2}$/.test(values.order)) {
    console.error(`--order must be a number from 1 to 99, not "${values.order}"\n${usage}`);
    process.exit(2);
  }
  const root = path.resolve(values.root ?? projectRoot);
  try {
    const result = await newLesson({ root, slug: positionals[0]!, order: values.order === undefined ? undefined : Number(values.order) });
    console.log(`Created lesson ${String(result.order).padStart(2, '0')} and its first sandbox:`);
    for (const file of result.files) console.log(`  ${file}`);
    console.log(`Next: fill in the TODOs (content/AUTHORING.md), then \`npm run sandbox -- ${result.sandboxId}\`, \`npm run record -- ${result.sandboxId}\` and \`npm run check:content\`.`);
  } catch (err) {
    if (!(err instanceof NewLessonError)) throw err;
    console.error(`new:lesson: ${err.message}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
