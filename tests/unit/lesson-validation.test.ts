import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateLessons, formatProblems, type LessonProblem } from '../../src/content/validate-lessons.ts';

const goodFrontmatter = (order: number, extra = '') => `---
title: "Why async?"
description: "Waiting versus working, and why concurrency turns a sum into a max."
order: ${order}
objectives:
  - "Explain serial versus concurrent waiting"
${extra}---

## A heading

Text.
`;

/** Builds a throwaway project with the given lesson files and validates it. */
async function validate(files: Record<string, string>): Promise<LessonProblem[]> {
  const root = await mkdtemp(path.join(tmpdir(), 'asynclab-lessons-'));
  try {
    for (const dir of ['en', 'zh']) await mkdir(path.join(root, 'content', 'lessons', dir), { recursive: true });
    for (const [name, body] of Object.entries(files)) await writeFile(path.join(root, 'content', 'lessons', name), body);
    return await validateLessons(path.join(root, 'content', 'lessons'), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('a well-formed pair of lessons has no problems', async () => {
  const problems = await validate({ 'en/01-why-async.mdx': goodFrontmatter(1), 'zh/01-why-async.mdx': goodFrontmatter(1) });
  assert.deepEqual(problems, []);
});

test('a bad field is reported with the file and the field name', async () => {
  const bad = goodFrontmatter(1).replace('order: 1', 'order: "first"');
  const problems = await validate({ 'en/01-why-async.mdx': goodFrontmatter(1), 'zh/01-why-async.mdx': bad });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.file, 'content/lessons/zh/01-why-async.mdx');
  assert.equal(problems[0]!.field, 'order');
  assert.match(formatProblems(problems), /content\/lessons\/zh\/01-why-async\.mdx → order: /);
});

test('a missing field, a nested bad field and an unknown field are each named', async () => {
  const noTitle = goodFrontmatter(1).replace(/title: .*\n/, '');
  const badObjective = goodFrontmatter(1).replace('  - "Explain serial versus concurrent waiting"', '  - 42');
  const unknown = goodFrontmatter(1, 'sandboxs: [gather]\n');
  const fields = async (body: string) =>
    (await validate({ 'en/01-why-async.mdx': body, 'zh/01-why-async.mdx': goodFrontmatter(1) })).map((p) => p.field);
  assert.deepEqual(await fields(noTitle), ['title']);
  assert.deepEqual(await fields(badObjective), ['objectives.0']);
  assert.deepEqual(await fields(unknown), ['sandboxs']);
});

test('a lesson without its twin in the other language is reported', async () => {
  const problems = await validate({ 'en/01-why-async.mdx': goodFrontmatter(1) });
  assert.deepEqual(
    problems.map((p) => [p.file, p.field]),
    [['content/lessons/en/01-why-async.mdx', 'twin']],
  );
  assert.match(problems[0]!.message, /content\/lessons\/zh\/01-why-async\.mdx/);
});

test('file names, order/prefix agreement and duplicate orders are checked', async () => {
  const problems = await validate({
    'en/1-why-async.mdx': goodFrontmatter(1),
    'en/02-tasks.mdx': goodFrontmatter(3),
    'zh/02-tasks.mdx': goodFrontmatter(2),
    'en/03-loop.mdx': goodFrontmatter(3),
    'zh/03-loop.mdx': goodFrontmatter(3),
    'en/03-other.mdx': goodFrontmatter(3),
    'zh/03-other.mdx': goodFrontmatter(3),
  });
  const got = problems.map((p) => `${p.file} ${p.field}`).sort();
  assert.deepEqual(got, [
    'content/lessons/en/02-tasks.mdx order',
    'content/lessons/en/03-other.mdx order',
    'content/lessons/en/1-why-async.mdx file name',
    'content/lessons/zh/03-other.mdx order',
  ]);
});

test('broken YAML and a missing frontmatter block name the file', async () => {
  const problems = await validate({
    'en/01-why-async.mdx': '---\ntitle: [unclosed\n---\n',
    'zh/01-why-async.mdx': '## No frontmatter\n',
  });
  assert.deepEqual(
    problems.map((p) => [p.file, p.field]),
    [
      ['content/lessons/en/01-why-async.mdx', 'frontmatter'],
      ['content/lessons/zh/01-why-async.mdx', 'frontmatter'],
    ],
  );
  assert.match(problems[0]!.message, /not valid YAML/);
});

test('twins must embed the same sandboxes', async () => {
  const withSandbox = `${goodFrontmatter(1)}\n<Sandbox id="gather" />\n\n<Sandbox id="sleep" />\n`;
  const onlyOne = `${goodFrontmatter(1)}\n<Sandbox id="sleep" />\n`;
  const problems = await validate({ 'en/01-why-async.mdx': withSandbox, 'zh/01-why-async.mdx': onlyOne });
  assert.deepEqual(
    problems.map((p) => [p.file, p.field]),
    [['content/lessons/zh/01-why-async.mdx', 'sandboxes']],
  );
  assert.match(problems[0]!.message, /<Sandbox id="gather">/);
});
