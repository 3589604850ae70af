import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ui } from '../../src/i18n/ui.ts';
import { whyNoEngine } from '../../src/client/sandbox/why-not.ts';
import { sandboxManifest } from '../../src/protocol/manifest.ts';

const strings = (locale: 'en' | 'zh') => ({ ...ui[locale].sandbox, locale });
const manifest = (extra: object) => sandboxManifest.parse({ id: 'x', title: { en: 'x', zh: 'x' }, language: 'python', kind: 'script', entry: 'main.py', ...extra });
const local = { engine: 'local' as const, code: 'unavailable' as const, detail: 'this page is served without the local runner' };

test('a sandbox needing threads says so and what would run it, in each language', () => {
  const m = manifest({ needs: ['threads', 'processes'] });
  const rejected = [local, { engine: 'pyodide' as const, code: 'needs' as const, detail: 'threads, processes' }];
  assert.equal(
    whyNoEngine(m, rejected, strings('en')),
    'This sandbox needs threads, child processes, which only the local runner provides. Run `npm start` locally to run it; the timeline below is a recorded run.',
  );
  assert.match(whyNoEngine(m, rejected, strings('zh')), /^这个沙箱需要多线程、子进程，只有本地运行器能提供。请在本地运行 `npm start`/);
});

test('servers, WebContainers without isolation or shared memory, and a runner that is present but off', () => {
  const server = manifest({ kind: 'server', entry: 'main:app', load: [{ path: '/' }] });
  assert.match(whyNoEngine(server, [local, { engine: 'pyodide', code: 'kind', detail: 'server' }], strings('en')), /^A Python server needs real sockets/);
  const node = manifest({ language: 'node', entry: 'main.mjs' });
  assert.match(whyNoEngine(node, [local, { engine: 'webcontainer', code: 'unavailable', detail: 'not-isolated' }], strings('en')), /cross-origin isolated page \(COOP and COEP headers\) and network access to StackBlitz/);
  assert.match(whyNoEngine(node, [local, { engine: 'webcontainer', code: 'unavailable', detail: 'no-shared-memory' }], strings('zh')), /SharedArrayBuffer/);
  assert.match(
    whyNoEngine(node, [local, { engine: 'webcontainer', code: 'unavailable', detail: 'not-isolated' }], strings('en'), 'bubblewrap is not installed'),
    /^The local runner is off: bubblewrap is not installed\. Node sandboxes/,
  );
});
