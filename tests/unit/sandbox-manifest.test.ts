import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listSandboxIds, loadSandbox, SandboxError } from '../../src/sandbox/load-sandbox.ts';
import { isSafeRelativePath } from '../../src/protocol/manifest.ts';

const good = {
  id: 'demo',
  title: { en: 'Demo', zh: '演示' },
  language: 'python',
  kind: 'server',
  entry: 'main:app',
  load: [{ path: '/x', count: 5 }],
};

async function load(manifest: unknown, files: Record<string, string> = { 'main.py': 'app = None\n' }, id = 'demo') {
  const root = await mkdtemp(path.join(tmpdir(), 'asynclab-sandboxes-'));
  try {
    await mkdir(path.join(root, 'sandboxes', id), { recursive: true });
    const raw = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    await writeFile(path.join(root, 'sandboxes', id, 'sandbox.json'), raw);
    for (const [name, body] of Object.entries(files)) await writeFile(path.join(root, 'sandboxes', id, name), body);
    return await loadSandbox(path.join(root, 'sandboxes'), id, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function problems(manifest: unknown, files?: Record<string, string>, id?: string) {
  try {
    await load(manifest, files, id);
  } catch (err) {
    assert.ok(err instanceof SandboxError, String(err));
    return err.problems.map((p) => `${p.file} ${p.field}`);
  }
  assert.fail('expected the sandbox to be rejected');
}

test('a valid manifest loads with its defaults filled in', async () => {
  const sandbox = await load(good);
  assert.equal(sandbox.manifest.load![0]!.method, 'GET');
  assert.deepEqual(sandbox.manifest.needs, []);
  assert.deepEqual(Object.keys(sandbox.files), ['main.py']);
});

test('bad manifests are rejected naming the file and the field', async () => {
  const file = 'sandboxes/demo/sandbox.json';
  assert.deepEqual(await problems({ ...good, language: 'ruby' }), [`${file} language`]);
  assert.deepEqual(await problems({ ...good, load: [{ path: 'no-slash' }] }), [`${file} load.0.path`]);
  assert.deepEqual(await problems({ ...good, load: undefined }), [`${file} load`]);
  assert.deepEqual(await problems({ ...good, entry: 'main.py' }), [`${file} entry`]);
  assert.deepEqual(await problems({ ...good, title: { en: 'Demo' } }), [`${file} title.zh`]);
  assert.deepEqual(await problems({ ...good, timeout: 5 }), [`${file} timeout`]);
  assert.deepEqual(await problems({ ...good, needs: ['gpu'] }), [`${file} needs.0`]);
  assert.deepEqual(await problems({ ...good, expect: { wallMs: {} } }), [`${file} expect.wallMs`]);
  assert.deepEqual(await problems('{ "id": '), [`${file} json`]);
  // A rule given as one object or a list names the field inside it, not just the rule.
  assert.deepEqual(await problems({ ...good, expect: { wallVsSpans: { lane: 'thread', of: 'median', max: 1 } } }), [`${file} expect.wallVsSpans.of`]);
  assert.deepEqual(await problems({ ...good, expect: { spanRatio: [{ lane: 'loop', of: 'sum', vs: { lane: 'handler' }, min: 1 }] } }), [`${file} expect.spanRatio.0.vs.of`]);
  assert.deepEqual(await problems({ ...good, expect: { spanMs: { lane: 'request', mach: 'x', max: 1 } } }), [`${file} expect.spanMs.mach`]);
  assert.deepEqual(await problems({ ...good, expect: { loopBlockedShare: { min: 0.9, max: 0.5 } } }), [`${file} expect.loopBlockedShare`]);
});

test('the folder name, the entry file and file names are checked too', async () => {
  assert.deepEqual(await problems(good, { 'main.py': '' }, 'other'), ['sandboxes/other/sandbox.json id']);
  assert.deepEqual(await problems(good, { 'app.py': '' }), ['sandboxes/demo/sandbox.json entry']);
  // An entry named like an Object.prototype property is not found on the prototype.
  const { load: _load, ...script } = good;
  for (const entry of ['constructor', 'toString', '__proto__']) {
    assert.deepEqual(await problems({ ...script, kind: 'script', entry }), ['sandboxes/demo/sandbox.json entry'], entry);
  }
});

test('file paths must stay inside the sandbox', () => {
  for (const ok of ['main.py', 'app/routes.py', 'data_1.json']) assert.ok(isSafeRelativePath(ok), ok);
  for (const bad of ['../x', '/etc/passwd', 'a/../../x', 'a//b', '.env', 'a\\b', '', 'x\0y', 'a/./b']) assert.ok(!isSafeRelativePath(bad), bad);
});

test('every sandbox in the repository is valid', async () => {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const ids = await listSandboxIds(path.join(root, 'sandboxes'));
  assert.ok(ids.length >= 4, ids.join(', '));
  for (const id of ids) await loadSandbox(path.join(root, 'sandboxes'), id, root);
});
