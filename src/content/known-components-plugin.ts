import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineMdastPlugin } from 'satteri';
import { sandboxIdPattern } from '../protocol/manifest.ts';

interface Options {
  /** Component names lessons may use without importing them. */
  allowed: readonly string[];
  /** Only files for which this returns true are checked (default: all). */
  appliesTo?: (file: string) => boolean;
  /** Folder that error messages show paths relative to (default: the working directory). */
  root?: string;
  /** Whether `sandboxes/<id>/` exists; when given, every <Sandbox id="…"> is checked against it. */
  sandboxExists?: (id: string) => boolean;
  /**
   * When given, a file's problems are handed here (path relative to `root`) instead of
   * being thrown, so a checker can report every file in one pass (npm run check:content).
   */
  onProblems?: (file: string, problems: ComponentProblem[]) => void;
}

/** One offence in a lesson's MDX, at a 1-based line and column (0 when the parser gave no position). */
export interface ComponentProblem {
  line: number;
  column: number;
  message: string;
}

/** Whether `sandboxes/<id>/sandbox.json` exists under `root`: the build's and check:content's test for <Sandbox id>. */
export function sandboxFolderExists(root: string): (id: string) => boolean {
  return (id) => sandboxIdPattern.test(id) && existsSync(path.join(root, 'sandboxes', id, 'sandbox.json'));
}

interface JsxAttribute {
  type: string;
  name?: string;
  value?: unknown;
}

interface Positioned {
  position?: { start: { line: number; column: number } } | undefined;
}

/**
 * Sätteri mdast plugin for lessons (Astro 7's Markdown pipeline): every JSX tag must
 * be a lowercase HTML element or one of the site's lesson components, and lessons
 * may not import modules, since the lesson page is the one place components come
 * from. Collects every offence in a file, then throws naming file, line and tag, so
 * a typo fails the build instead of rendering nothing.
 */
export function knownComponentsPlugin({ allowed, appliesTo, root = process.cwd(), sandboxExists, onProblems }: Options) {
  const allowedSet = new Set(allowed);
  let problems: ComponentProblem[] = [];
  const report = (node: Positioned, message: string) =>
    problems.push({ line: node.position?.start.line ?? 0, column: node.position?.start.column ?? 0, message });
  const checkTag = (node: Positioned & { name: string | null; attributes?: readonly JsxAttribute[] }) => {
    if (!node.name) return; // a fragment
    const isHtml = /^[a-z][a-z0-9-]*$/.test(node.name);
    if (!isHtml && !allowedSet.has(node.name)) {
      report(node, `component <${node.name}> is unknown; lessons may use: ${allowed.join(', ')}`);
    }
    if (node.name === 'Sandbox' && sandboxExists) {
      const id = node.attributes?.find((a) => a.type === 'mdxJsxAttribute' && a.name === 'id')?.value;
      if (typeof id !== 'string') report(node, '<Sandbox> needs id="…" (a folder in sandboxes/)');
      else if (!sandboxExists(id)) report(node, `<Sandbox id="${id}">: there is no sandboxes/${id}/sandbox.json`);
    }
  };

  return defineMdastPlugin({
    name: 'asynclab:known-components',
    options: { position: true },
    before() {
      problems = [];
    },
    mdxJsxFlowElement: checkTag,
    mdxJsxTextElement: checkTag,
    mdxjsEsm(node) {
      report(node, 'import/export is not allowed in a lesson; the site provides its components');
    },
    after(_root, ctx) {
      if (!problems.length) return;
      const file = ctx.fileURL ? fileURLToPath(ctx.fileURL) : '<unknown file>';
      if (appliesTo && !appliesTo(file)) return;
      const shown = path.relative(root, file).split(path.sep).join('/');
      if (onProblems) return onProblems(shown, problems);
      const at = (p: ComponentProblem) => (p.line ? `:${p.line}:${p.column}` : '');
      throw new Error(problems.map((p) => `${shown}${at(p)} ${p.message}`).join('\n'));
    },
  });
}
