/**
 * The authoring tools: `npm run new:lesson` scaffolds a pair of lessons and a sandbox
 * that pass `npm run check:content`, which reports what the build would reject as
 * file:line. Everything runs in throwaway folders, never on the real content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkContent, formatProblem, type ContentProblem } from '../../src/tools/check-content.ts';
import { newLesson, NewLessonError } from '../../src/tools/new-lesson.ts';
import { mdxProse, sourceStrings } from '../../src/content/terminology.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');

async function withProject(run: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'asynclab-authoring-'));
  try {
    for (const dir of ['content/lessons/en', 'content/lessons/zh', 'sandboxes']) await mkdir(path.join(root, dir), { recursive: true });
    await run(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const errorsOf = (problems: ContentProblem[]) => problems.filter((p) => p.severity === 'error').map(formatProblem);

test('new:lesson scaffolds both languages and a sandbox that pass check:content', async () => {
  await withProject(async (root) => {
    const first = await newLesson({ root, slug: 'first-steps' });
    assert.equal(first.order, 1);
    const result = await newLesson({ root, slug: 'lifespan-and-middleware' });
    assert.equal(result.order, 2, 'the next order after the highest in use');
    assert.equal(result.sandboxId, 'lifespan-and-middleware-example');
    assert.deepEqual(result.files, [
      'content/lessons/en/02-lifespan-and-middleware.mdx',
      'content/lessons/zh/02-lifespan-and-middleware.mdx',
      'sandboxes/lifespan-and-middleware-example/sandbox.json',
      'sandboxes/lifespan-and-middleware-example/main.py',
    ]);
    const en = await readFile(path.join(root, result.files[0]!), 'utf8');
    const zh = await readFile(path.join(root, result.files[1]!), 'utf8');
    assert.match(en, /^order: 2$/m);
    assert.match(en, /^## Try this$/m);
    assert.match(zh, /^## 动手试试$/m);
    for (const text of [en, zh]) assert.match(text, /^<Sandbox id="lifespan-and-middleware-example" \/>$/m);

    const report = await checkContent(root);
    assert.deepEqual(errorsOf(report.problems), []);
    assert.equal(report.lessons, 4);
    assert.equal(report.sandboxes, 2);
    // No recording yet: a warning that says what to run, not an error.
    assert.ok(report.problems.some((p) => p.severity === 'warning' && p.message.includes('npm run record -- lifespan-and-middleware-example')));
    // The scaffold's placeholders are pointed at, line by line, in both languages.
    const todos = report.problems.filter((p) => p.message.startsWith('a TODO placeholder'));
    assert.ok(todos.some((p) => p.file === result.files[0] && p.line > 1));
    assert.ok(todos.some((p) => p.file === result.files[1]));
  });
});

test('new:lesson takes an explicit order and refuses one that is taken', async () => {
  await withProject(async (root) => {
    assert.equal((await newLesson({ root, slug: 'pitfalls', order: 14 })).order, 14);
    assert.equal((await newLesson({ root, slug: 'after-pitfalls' })).order, 15);
    await assert.rejects(newLesson({ root, slug: 'other', order: 14 }), /order 14 is taken by content\/lessons\/en\/14-pitfalls\.mdx/);
    await assert.rejects(newLesson({ root, slug: 'other', order: 100 }), /order must be a whole number from 1 to 99/);
  });
});

test('new:lesson refuses bad slugs and existing files, and never overwrites', async () => {
  await withProject(async (root) => {
    for (const slug of ['Bad_Slug', 'two--dashes', '-lead', 'x', 'ends-', 'a/b']) {
      await assert.rejects(newLesson({ root, slug }), (err: Error) => err instanceof NewLessonError && /is not a usable slug/.test(err.message), slug);
    }
    await newLesson({ root, slug: 'event-loop' });
    await assert.rejects(newLesson({ root, slug: 'event-loop' }), /slug "event-loop" exists already: content\/lessons\/en\/01-event-loop\.mdx/);

    // A sandbox folder of that name already there: nothing is written, nothing is touched.
    await mkdir(path.join(root, 'sandboxes', 'gather-example'));
    await writeFile(path.join(root, 'sandboxes', 'gather-example', 'main.py'), 'mine\n');
    await assert.rejects(newLesson({ root, slug: 'gather' }), /sandboxes\/gather-example\/ exists already; nothing was written/);
    assert.equal(existsSync(path.join(root, 'content/lessons/en/02-gather.mdx')), false);
    assert.equal(await readFile(path.join(root, 'sandboxes', 'gather-example', 'main.py'), 'utf8'), 'mine\n');

    // A lesson file in one language only (a stray twin): refused, not overwritten.
    await writeFile(path.join(root, 'content/lessons/zh/02-tasks.mdx'), 'draft\n');
    await assert.rejects(newLesson({ root, slug: 'tasks', order: 2 }), /exists already: content\/lessons\/zh\/02-tasks\.mdx/);
    assert.equal(await readFile(path.join(root, 'content/lessons/zh/02-tasks.mdx'), 'utf8'), 'draft\n');
  });
});

test('check:content reports a broken manifest at the line of the bad field', async () => {
  await withProject(async (root) => {
    const { sandboxId } = await newLesson({ root, slug: 'demo' });
    const manifestPath = path.join(root, 'sandboxes', sandboxId, 'sandbox.json');
    const manifest = await readFile(manifestPath, 'utf8');
    await writeFile(manifestPath, manifest.replace('"kind": "script"', '"kind": "scirpt"'));
    const kindLine = manifest.split('\n').findIndex((l) => l.includes('"kind"')) + 1;
    assert.deepEqual(errorsOf((await checkContent(root)).problems), [
      `sandboxes/demo-example/sandbox.json:${kindLine}: kind: ${await zodEnumMessage()}`,
    ]);

    // Invalid JSON: the line JSON.parse names.
    await writeFile(manifestPath, manifest.replace('"language": "python",', '"language": "python"'));
    const [broken] = errorsOf((await checkContent(root)).problems);
    assert.match(broken!, new RegExp(`^sandboxes/demo-example/sandbox\\.json:${kindLine}: json: `));

    // A field nested in a list, and a key the schema does not know.
    const nested = JSON.parse(manifest);
    nested.expect.wallMs.min = -5;
    nested.timeout = 5000;
    const text = `${JSON.stringify(nested, null, 2)}\n`;
    await writeFile(manifestPath, text);
    const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    const got = errorsOf((await checkContent(root)).problems).map((l) => l.split(': ').slice(0, 2).join(': '));
    assert.deepEqual(got.sort(), [
      `sandboxes/demo-example/sandbox.json:${lineOf('"min": -5')}: expect.wallMs.min`,
      `sandboxes/demo-example/sandbox.json:${lineOf('"timeout"')}: timeout`,
    ].sort());
  });
});

test('check:content reports a missing twin and an unknown sandbox id with file and line', async () => {
  await withProject(async (root) => {
    await newLesson({ root, slug: 'demo' });
    await rm(path.join(root, 'content/lessons/zh/01-demo.mdx'));
    const enPath = path.join(root, 'content/lessons/en/01-demo.mdx');
    const en = await readFile(enPath, 'utf8');
    const withTypo = en.replace('## Try this', '<Sandbox id="demo-exmaple" />\n\n## Try this');
    await writeFile(enPath, withTypo);
    const typoLine = withTypo.split('\n').indexOf('<Sandbox id="demo-exmaple" />') + 1;

    const errors = errorsOf((await checkContent(root)).problems);
    assert.ok(errors.includes('content/lessons/en/01-demo.mdx:1: twin: has no zh twin: add content/lessons/zh/01-demo.mdx (same order and slug)'), errors.join('\n'));
    assert.ok(
      errors.includes(`content/lessons/en/01-demo.mdx:${typoLine}:1: <Sandbox id="demo-exmaple">: there is no sandboxes/demo-exmaple/sandbox.json`),
      errors.join('\n'),
    );
  });
});

test('check:content reports frontmatter fields, unknown components and imports at their lines', async () => {
  await withProject(async (root) => {
    await newLesson({ root, slug: 'demo' });
    const zhPath = path.join(root, 'content/lessons/zh/01-demo.mdx');
    const zh = await readFile(zhPath, 'utf8');
    const broken = zh.replace(/^order: 1$/m, 'order: 3').replace('## 动手试试', '<Calout type="tip">\n\n提示\n\n</Calout>\n\n## 动手试试');
    await writeFile(zhPath, broken);
    const lines = broken.split('\n');
    const errors = errorsOf((await checkContent(root)).problems);
    assert.ok(errors.includes(`content/lessons/zh/01-demo.mdx:${lines.indexOf('order: 3') + 1}: order: is 3 but the file name starts with 01`), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith(`content/lessons/zh/01-demo.mdx:${lines.indexOf('<Calout type="tip">') + 1}:1: component <Calout> is unknown`)), errors.join('\n'));
  });
});

test('check:content: a recording that does not hold the claim is an error at the expect', async () => {
  await withProject(async (root) => {
    const { sandboxId } = await newLesson({ root, slug: 'demo' });
    const dir = path.join(root, 'sandboxes', sandboxId);
    const recorded = { sandbox: sandboxId, recordedAt: '2026-01-01T00:00:00.000Z', runtime: 'Python 3.11', exit: { code: 0, signal: null, durationMs: 50 }, stdout: 'nothing\n', stderr: '', trace: [] };
    await writeFile(path.join(dir, 'recorded.json'), JSON.stringify(recorded));
    const manifest = await readFile(path.join(dir, 'sandbox.json'), 'utf8');
    const expectLine = manifest.split('\n').findIndex((l) => l.includes('"expect"')) + 1;
    const [error, ...rest] = errorsOf((await checkContent(root)).problems);
    assert.deepEqual(rest, []);
    assert.match(error!, new RegExp(`^sandboxes/demo-example/sandbox\\.json:${expectLine}: expect: the recording of 2026-01-01 does not hold the claim: .*both done`));
  });
});

const glossary = `zh:
  - term: 容量限制器
    en: AnyIO capacity limiter
    variants: [限流器, 限额]
    allow: [限流器组件]
    note: 限流器 is rate limiting
  - term: 运行框架
    en: harness
    variants: [harness]
`;

const terminologyErrors = (problems: ContentProblem[]) => errorsOf(problems).filter((line) => line.includes('terminology'));

test('check:content flags a forbidden variant in zh prose at file:line:column, naming the preferred term', async () => {
  await withProject(async (root) => {
    await newLesson({ root, slug: 'demo' });
    await writeFile(path.join(root, 'content/terminology.yaml'), glossary);
    const zhPath = path.join(root, 'content/lessons/zh/01-demo.mdx');
    const body = [
      '## 限制',
      '',
      'AnyIO 的限流器只有 40 个令牌，harness 会画出来。',
      '',
      '```python',
      '# 限流器 in a code block is code, not prose',
      'harness = 1',
      '```',
      '',
      '在 `限流器` 这样的行内代码里不算；`harness.py` 也不算；runharness 与 harnesses 是别的词。',
      '',
      '这里说的确实是按速率限流：限流器。{/* term-ok: 限流器 */}',
      '',
      '限流器组件是另一个词，限额则不是。',
      '',
    ].join('\n');
    const original = await readFile(zhPath, 'utf8');
    const text = original.replace('## 动手试试', `${body}\n## 动手试试`);
    await writeFile(zhPath, text);
    const lines = text.split('\n');
    const at = (needle: string, within: string) => `${lines.indexOf(within) + 1}:${within.indexOf(needle) + 1}`;
    const prose = 'AnyIO 的限流器只有 40 个令牌，harness 会画出来。';
    const last = '限流器组件是另一个词，限额则不是。';
    assert.deepEqual(terminologyErrors((await checkContent(root)).problems), [
      `content/lessons/zh/01-demo.mdx:${at('限流器', prose)}: terminology: write "容量限制器" (AnyIO capacity limiter), not "限流器": 限流器 is rate limiting`,
      `content/lessons/zh/01-demo.mdx:${at('harness', prose)}: terminology: write "运行框架" (harness), not "harness"`,
      `content/lessons/zh/01-demo.mdx:${at('限额', last)}: terminology: write "容量限制器" (AnyIO capacity limiter), not "限额": 限流器 is rate limiting`,
    ]);

    // The English twin is not held to the zh list.
    const enPath = path.join(root, 'content/lessons/en/01-demo.mdx');
    await writeFile(enPath, (await readFile(enPath, 'utf8')).replace('## Try this', 'The harness draws it.\n\n## Try this'));
    assert.equal(terminologyErrors((await checkContent(root)).problems).length, 3);

    // The escape is per variant: term-ok for 限额 does not excuse 限流器 on the same line.
    await writeFile(zhPath, text.replace('限流器。{/* term-ok: 限流器 */}', '限流器。{/* term-ok: 限额 */}'));
    assert.equal(terminologyErrors((await checkContent(root)).problems).length, 4);
  });
});

test('check:content holds sandbox titles and UI strings to the glossary, not their code or English', async () => {
  await withProject(async (root) => {
    const { sandboxId } = await newLesson({ root, slug: 'demo' });
    await writeFile(path.join(root, 'content/terminology.yaml'), glossary);
    const manifestPath = path.join(root, 'sandboxes', sandboxId, 'sandbox.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    manifest.title = { en: 'The limiter, traced by the harness', zh: '40 个令牌的限流器' };
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    await writeFile(manifestPath, manifestText);
    await mkdir(path.join(root, 'src/i18n'), { recursive: true });
    const ui = [
      "const harness = 'harness'; // 限流器 in a comment is not shown",
      "export const zh = { note: '线程由限流器控制', en: 'the harness' };",
      "export const other = { note: '限流器（按速率）' }; // term-ok: 限流器",
      '',
    ].join('\n');
    await writeFile(path.join(root, 'src/i18n/ui.ts'), ui);
    const titleLine = manifestText.split('\n').findIndex((l) => l.includes('限流器'));
    const titleColumn = manifestText.split('\n')[titleLine]!.indexOf('限流器') + 1;
    assert.deepEqual(terminologyErrors((await checkContent(root)).problems), [
      `sandboxes/demo-example/sandbox.json:${titleLine + 1}:${titleColumn}: terminology: write "容量限制器" (AnyIO capacity limiter), not "限流器": 限流器 is rate limiting`,
      `src/i18n/ui.ts:2:${ui.split('\n')[1]!.indexOf('限流器') + 1}: terminology: write "容量限制器" (AnyIO capacity limiter), not "限流器": 限流器 is rate limiting`,
    ]);
  });
});

test('the terminology check reads prose only: code spans end at a blank line, JSON keys are not text', () => {
  // A stray backtick must not hide the next paragraph from the check.
  const mdx = 'Use a ` here.\n\n限流器 is prose.\n\n`限流器` is code.\n';
  assert.deepEqual(mdxProse(mdx).split('\n').map((l) => l.includes('限流器')), [false, false, true, false, false, false]);
  assert.equal(sourceStrings('{ "限流器": "用限流器" }', 'zh', { keys: false }).trim(), '用限流器');
  assert.equal(sourceStrings("const a = ok ? '限流器' : 'x';", 'zh').trim(), '限流器', 'a TypeScript ternary is not a key');
});

test('check:content rejects a malformed glossary, naming file, line and field', async () => {
  await withProject(async (root) => {
    await newLesson({ root, slug: 'demo' });
    const file = path.join(root, 'content/terminology.yaml');
    const broken = ['zh:', '  - term: 容量限制器', '    en: AnyIO capacity limiter', '    variants: [限流器, ""]', '  - term: 台阶', '    variants: [楼梯]', '    typo: 1', ''].join('\n');
    await writeFile(file, broken);
    const errors = errorsOf((await checkContent(root)).problems);
    const fields = errors.map((e) => e.split(': ').slice(0, 2).join(': ')).sort();
    assert.deepEqual(fields, [
      'content/terminology.yaml:4: zh.0.variants.1',
      'content/terminology.yaml:5: zh.1.en',
      'content/terminology.yaml:7: zh.1.typo',
    ].sort(), errors.join('\n'));

    // An allowed word that contains no variant would excuse nothing: a mistake, at its line.
    await writeFile(file, ['zh:', '  - term: 容量限制器', '    en: AnyIO capacity limiter', '    variants: [限流器]', '    allow: [令牌桶]', ''].join('\n'));
    assert.deepEqual(errorsOf((await checkContent(root)).problems), ['content/terminology.yaml:5: zh.0.allow.0: "令牌桶" contains none of the variants, so allowing it does nothing']);

    // One variant under two terms is a contradiction, reported at the second.
    await writeFile(file, ['zh:', '  - term: 台阶', '    en: staircase', '    variants: [楼梯]', '  - term: 阶梯', '    en: stairs', '    variants: [楼梯]', ''].join('\n'));
    assert.deepEqual(errorsOf((await checkContent(root)).problems), ['content/terminology.yaml:7: zh.1.variants.0: "楼梯" is already a variant of "台阶"']);

    // Not YAML at all: the parser's line.
    await writeFile(file, 'zh:\n  - term: [unclosed\n');
    assert.match(errorsOf((await checkContent(root)).problems)[0]!, /^content\/terminology\.yaml:\d+: yaml: /);
  });
});

test('the course as committed passes check:content', async () => {
  const report = await checkContent(projectRoot);
  assert.deepEqual(errorsOf(report.problems), []);
  assert.deepEqual(report.problems.filter((p) => p.message.startsWith('a TODO placeholder')), [], 'no scaffold placeholder is published');
  assert.ok(report.lessons >= 2 && report.sandboxes >= 1);
});

/** zod's own wording for a bad enum value, so the test does not pin a zod version's message. */
async function zodEnumMessage(): Promise<string> {
  const { sandboxManifest } = await import('../../src/protocol/manifest.ts');
  const result = sandboxManifest.safeParse({ id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'scirpt', entry: 'main.py' });
  assert.ok(!result.success);
  return result.error.issues.find((i) => i.path[0] === 'kind')!.message;
}
