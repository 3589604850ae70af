/**
 * The sandbox client's first chunk (init.ts and what it imports statically) is what every lesson
 * page loads when the reader nears a sandbox. The remote engine lives in it; the protocol's
 * validators (zod) must not: importing one value from a module that builds schemas pulled all of
 * zod in once (34 kB became 127 kB). This walks the static value imports from init.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');

/** Static value imports and re-exports of a module (type-only ones vanish at build; dynamic ones are chunks of their own). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)([^;]*?)\s*from\s*'([^']+)'/gm)) {
    const names = m[1]!;
    // `import { type A, type B } from …` is type-only too.
    if (/^\{[^}]*\}$/.test(names) && names.slice(1, -1).split(',').every((n) => !n.trim() || /^type\s/.test(n.trim()))) continue;
    specifiers.push(m[2]!);
  }
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) specifiers.push(m[1]!);
  return specifiers;
}

function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

test('the sandbox client\'s first chunk carries the remote engine but no schema validator', () => {
  const { files, packages } = graph(path.join(root, 'src', 'client', 'sandbox', 'init.ts'));
  const rel = [...files].map((f) => path.relative(root, f));
  assert.ok(rel.includes('src/engines/remote.ts') && rel.includes('src/engines/fallback.ts') && rel.includes('src/client/sandbox/view.ts'), rel.join(', '));
  assert.deepEqual([...packages].filter((p) => /zod/.test(p)), []);
  assert.ok(!rel.includes('src/protocol/messages.ts'), 'messages.ts builds zod schemas: import its types only');
});

test('the walk sees value imports and skips type-only ones', () => {
  const { packages } = graph(path.join(root, 'src', 'protocol', 'messages.ts'));
  assert.ok(packages.has('astro/zod'), 'messages.ts itself imports zod');
});
