import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineMdastPlugin } from 'satteri';

interface Options {
  /** Component names lessons may use without importing them. */
  allowed: readonly string[];
  /** Only files for which this returns true are checked (default: all). */
  appliesTo?: (file: string) => boolean;
  /** Folder that error messages show paths relative to (default: the working directory). */
  root?: string;
  /** Whether `sandboxes/<id>/` exists; when given, every <Sandbox id="…"> is checked against it. */
  sandboxExists?: (id: string) => boolean;
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
export function knownComponentsPlugin({ allowed, appliesTo, root = process.cwd(), sandboxExists }: Options) {
  const allowedSet = new Set(allowed);
  let problems: string[] = [];
  const at = (node: Positioned) => (node.position ? `:${node.position.start.line}:${node.position.start.column}` : '');
  const checkTag = (node: Positioned & { name: string | null; attributes?: readonly JsxAttribute[] }) => {
    if (!node.name) return; // a fragment
    const isHtml = /^[a-z][a-z0-9-]*$/.test(node.name);
    if (!isHtml && !allowedSet.has(node.name)) {
      problems.push(`${at(node)} component <${node.name}> is unknown; lessons may use: ${allowed.join(', ')}`);
    }
    if (node.name === 'Sandbox' && sandboxExists) {
      const id = node.attributes?.find((a) => a.type === 'mdxJsxAttribute' && a.name === 'id')?.value;
      if (typeof id !== 'string') problems.push(`${at(node)} <Sandbox> needs id="…" (a folder in sandboxes/)`);
      else if (!sandboxExists(id)) problems.push(`${at(node)} <Sandbox id="${id}">: there is no sandboxes/${id}/sandbox.json`);
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
      problems.push(`${at(node)} import/export is not allowed in a lesson; the site provides its components`);
    },
    after(_root, ctx) {
      if (!problems.length) return;
      const file = ctx.fileURL ? fileURLToPath(ctx.fileURL) : '<unknown file>';
      if (appliesTo && !appliesTo(file)) return;
      const shown = path.relative(root, file).split(path.sep).join('/');
      throw new Error(problems.map((p) => `${shown}${p}`).join('\n'));
    },
  });
}
