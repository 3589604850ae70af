/**
 * The versions the sandbox runtime runs, read at build time from
 * `sandboxes/_runtime/runtime.json` (`versions`, which the runtime's build checks the
 * root against), for the page to show beside each Python sandbox. One source: a new
 * runtime.json changes the label with no edit here.
 */
import path from 'node:path';
import { loadSpec } from '../runtime/spec.ts';

export interface SandboxStack {
  /** e.g. "3.13" */
  python: string;
  /** e.g. "0.115" */
  fastapi: string;
}

const cache = new Map<string, SandboxStack>();

/** `root` is the project folder (the build's working directory). */
export function sandboxStack(root: string = process.cwd()): SandboxStack {
  let stack = cache.get(root);
  if (!stack) {
    // loadSpec has checked that both are there and look like version numbers.
    const { versions } = loadSpec(path.join(root, 'sandboxes', '_runtime', 'runtime.json')).spec;
    stack = { python: versions.python!, fastapi: versions.fastapi! };
    cache.set(root, stack);
  }
  return stack;
}

/** Fills a `{python}` / `{fastapi}` template (the UI strings in both languages). */
export function stackLabel(template: string, stack: SandboxStack): string {
  return template.replace('{python}', stack.python).replace('{fastapi}', stack.fastapi);
}
