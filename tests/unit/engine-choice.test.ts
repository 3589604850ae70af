import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseEngine } from '../../src/engines/engine.ts';
import { LocalEngine } from '../../src/engines/local.ts';
import { PyodideEngine } from '../../src/engines/pyodide.ts';
import { containerSupport, WebContainerEngine, type ContainerUnavailable } from '../../src/engines/webcontainer.ts';
import { sandboxManifest, type SandboxManifest } from '../../src/protocol/manifest.ts';

const manifest = (extra: object): SandboxManifest =>
  sandboxManifest.parse({ id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'script', entry: 'main.py', ...extra });

const noWorker = () => assert.fail('supports() must not start a worker');
/** The page's real in-browser engines; neither boots anything to answer supports(). */
const pyodide = new PyodideEngine({ assetsUrl: '/_pyodide/x/', createWorker: noWorker });
const container = (unavailable: ContainerUnavailable | undefined) =>
  new WebContainerEngine({ unavailable, api: { boot: () => assert.fail('no boot'), harness: () => assert.fail('no harness') } });

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
  const gather = chooseEngine(manifest({}), [local, pyodide]);
  assert.equal(gather.engine, pyodide);
  assert.deepEqual(gather.rejected, [{ engine: 'local', code: 'unavailable', detail: 'static host' }]);

  const threads = chooseEngine(manifest({ needs: ['threads'] }), [local, pyodide]);
  assert.equal(threads.engine, undefined);
  assert.deepEqual(threads.rejected, [
    { engine: 'local', code: 'unavailable', detail: 'static host' },
    { engine: 'pyodide', code: 'needs', detail: 'threads' },
  ]);

  const server = chooseEngine(manifest({ kind: 'server', entry: 'main:app', load: [{ path: '/' }] }), [pyodide]);
  assert.deepEqual(server.rejected, [{ engine: 'pyodide', code: 'kind', detail: 'server' }]);
});

test('Node sandboxes go to a WebContainer only where the page can host one; the local runner comes first', () => {
  const node = manifest({ language: 'node', entry: 'main.mjs' });
  const isolated = container(undefined);
  const local = new LocalEngine({ client: undefined, unavailable: 'static host' });
  assert.equal(chooseEngine(node, [local, pyodide, isolated]).engine, isolated);
  assert.deepEqual(chooseEngine(node, [local, pyodide, container('not-isolated')]).rejected.at(-1), {
    engine: 'webcontainer',
    code: 'unavailable',
    detail: 'not-isolated',
  });
  // Needs a container cannot meet are named; the ones it can (a fake upstream, worker threads) are not.
  assert.deepEqual(chooseEngine(manifest({ language: 'node', entry: 'main.mjs', needs: ['redis', 'upstream'] }), [isolated]).rejected, [
    { engine: 'webcontainer', code: 'needs', detail: 'redis' },
  ]);
  assert.ok(isolated.supports(manifest({ language: 'node', kind: 'server', entry: 'server.mjs', needs: ['threads'], load: [{ path: '/' }] })).ok);
  assert.equal(isolated.supports(manifest({})).ok, false, 'Python is not for a WebContainer');
});

test('with both a runner and an in-browser engine able, both are offered in a fixed order', () => {
  const able = { id: 'local' as const, supports: () => ({ ok: true as const }), async *run() {} };
  const choice = chooseEngine(manifest({}), [able, pyodide, container(undefined)]);
  assert.deepEqual(choice.able.map((e) => e.id), ['local', 'pyodide']);
  assert.equal(choice.engine, able);
});

test('whether this browser can host a WebContainer', () => {
  assert.equal(containerSupport({ crossOriginIsolated: false, SharedArrayBuffer }), 'not-isolated');
  assert.equal(containerSupport({ crossOriginIsolated: true }), 'no-shared-memory');
  assert.equal(containerSupport({ crossOriginIsolated: true, SharedArrayBuffer }), undefined);
});
