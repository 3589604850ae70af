import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseEngine, type Engine, type Support } from '../../src/sandbox/engines/engine.ts';
import { LocalEngine } from '../../src/sandbox/engines/local.ts';
import { sandboxManifest, type SandboxManifest } from '../../src/sandbox/manifest.ts';

const manifest = (extra: object): SandboxManifest =>
  sandboxManifest.parse({ id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'script', entry: 'main.py', ...extra });

/** An in-browser engine with the limits DESIGN §4 gives Pyodide: Python scripts without needs. */
const scriptsOnly: Engine = {
  id: 'pyodide',
  supports(m): Support {
    if (m.language !== 'python') return { ok: false, code: 'language', detail: m.language };
    if (m.kind !== 'script') return { ok: false, code: 'kind', detail: m.kind };
    if (m.needs.length) return { ok: false, code: 'needs', detail: m.needs.join(', ') };
    return { ok: true };
  },
  async *run() {
    // never chosen to run in these tests
  },
};

test('without a runner, the local engine says why it cannot run anything', () => {
  const local = new LocalEngine({ client: undefined, unavailable: 'bubblewrap is not installed' });
  assert.deepEqual(local.supports(manifest({})), { ok: false, code: 'unavailable', detail: 'bubblewrap is not installed' });
  assert.deepEqual(new LocalEngine({ client: undefined }).supports(manifest({})), {
    ok: false,
    code: 'unavailable',
    detail: 'this page was not served with a runner',
  });
});

test('the choice is the first engine that can run the sandbox, with every rejection explained', () => {
  const local = new LocalEngine({ client: undefined, unavailable: 'static host' });
  const gather = chooseEngine(manifest({}), [local, scriptsOnly]);
  assert.equal(gather.engine, scriptsOnly);
  assert.deepEqual(gather.rejected, [{ engine: 'local', code: 'unavailable', detail: 'static host' }]);

  const threads = chooseEngine(manifest({ needs: ['threads'] }), [local, scriptsOnly]);
  assert.equal(threads.engine, undefined);
  assert.deepEqual(threads.rejected, [
    { engine: 'local', code: 'unavailable', detail: 'static host' },
    { engine: 'pyodide', code: 'needs', detail: 'threads' },
  ]);

  const server = chooseEngine(manifest({ kind: 'server', entry: 'main:app', load: [{ path: '/' }] }), [scriptsOnly]);
  assert.deepEqual(server.rejected, [{ engine: 'pyodide', code: 'kind', detail: 'server' }]);
});
