/**
 * The layering the runner's hosts rely on: the wire protocol is a leaf every side imports, the runner core
 * knows nothing of its hosts or of the page, and the page's engines know the runner only through the protocol.
 * Read from the source itself, so a new import that reaches into another folder's internals fails here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** For each folder under src/: the other src/ folders its files may import. */
const allowed: Record<string, readonly string[]> = {
  protocol: [],
  runtime: [],
  runner: ['protocol', 'runtime'],
  engines: ['protocol'],
  sandbox: ['protocol', 'runtime', 'i18n'],
  timeline: ['protocol'],
  server: ['protocol', 'runner', 'runtime', 'sandbox', 'i18n'],
  fleet: ['protocol', 'runner', 'runtime', 'server'],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : /\.(ts|mts|astro)$/.test(name) ? [full] : [];
  });
}

/** The src/ folder each relative import of `file` lands in (imports outside src/ are not layering). */
function importedFolders(file: string): { spec: string; folder: string }[] {
  const text = readFileSync(file, 'utf8');
  const found: { spec: string; folder: string }[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"?]+)/g)) {
    const target = path.relative(src, path.resolve(path.dirname(file), m[1]!));
    if (target.startsWith('..')) continue;
    const folder = target.split(path.sep)[0]!;
    found.push({ spec: m[1]!, folder });
  }
  return found;
}

test('each layer imports only the folders below it', () => {
  const broken: string[] = [];
  for (const [layer, may] of Object.entries(allowed)) {
    let dir: string;
    try {
      dir = path.join(src, layer);
      statSync(dir);
    } catch {
      continue; // a layer that does not exist yet (the fleet) has nothing to check
    }
    for (const file of filesUnder(dir)) {
      for (const { spec, folder } of importedFolders(file)) {
        if (folder !== layer && !may.includes(folder)) broken.push(`${path.relative(src, file)} imports ${spec} (${folder})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('only hosts (the embedded server, the fleet, tools) import the runner core', () => {
  const hosts = new Set(['runner', 'server', 'fleet', 'tools']);
  const broken = filesUnder(src).flatMap((file) => {
    const layer = path.relative(src, file).split(path.sep)[0]!;
    if (hosts.has(layer)) return [];
    return importedFolders(file)
      .filter((i) => i.folder === 'runner')
      .map((i) => `${path.relative(src, file)} imports ${i.spec}`);
  });
  assert.deepEqual(broken, []);
});

test('the rule reads real imports (a file that reaches up is caught)', () => {
  // The check above passes vacuously if the reader finds nothing: the engines must be seen importing the protocol.
  const engineImports = filesUnder(path.join(src, 'engines')).flatMap(importedFolders);
  assert.ok(engineImports.some((i) => i.folder === 'protocol'));
});
