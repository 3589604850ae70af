/** The hosted runner's addresses: PUBLIC_RUNNER_URL checked at build, preview paths resolved on the gateway's origin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResolvedConfig } from 'vite';
import { gatewayOrigin, parseRunnerUrl, resolvePreview, RunnerUrlError } from '../../src/engines/remote-url.ts';
import { previewSocketUrl, previewUrl } from '../../src/client/sandbox/preview-net.ts';
import { publicRunnerUrlCheck } from '../../src/tools/public-runner-url.ts';

const cap = 'k'.repeat(43);

test('PUBLIC_RUNNER_URL: unset or blank means no hosted runner; ws:// and wss:// URLs are taken as given', () => {
  assert.equal(parseRunnerUrl(undefined), undefined);
  assert.equal(parseRunnerUrl('  '), undefined);
  assert.equal(parseRunnerUrl('wss://runner.example.org/__runner'), 'wss://runner.example.org/__runner');
  assert.equal(parseRunnerUrl(' ws://127.0.0.1:8788/__runner '), 'ws://127.0.0.1:8788/__runner');
});

test('PUBLIC_RUNNER_URL: anything else is refused with a reason naming the variable', () => {
  const refused = (value: string, why: RegExp) => assert.throws(() => parseRunnerUrl(value), (err: Error) => err instanceof RunnerUrlError && /PUBLIC_RUNNER_URL/.test(err.message) && why.test(err.message));
  refused('https://runner.example.org/__runner', /must start with ws:\/\/ or wss:\/\//);
  refused('runner.example.org', /not a URL/);
  refused('wss://user:secret@runner.example.org/', /user name or password/);
  refused('wss://runner.example.org/#x', /fragment/);
});

test('the build stops on a bad PUBLIC_RUNNER_URL, as Vite resolved it, and passes a good or missing one', () => {
  const plugin = publicRunnerUrlCheck();
  const resolve = (env: Record<string, string>) => (plugin.configResolved as (c: ResolvedConfig) => void)({ env } as unknown as ResolvedConfig);
  assert.throws(() => resolve({ PUBLIC_RUNNER_URL: 'http://gateway:8788' }), /must start with ws:\/\/ or wss:\/\//);
  assert.doesNotThrow(() => resolve({ PUBLIC_RUNNER_URL: 'wss://gateway.example.org/__runner' }));
  assert.doesNotThrow(() => resolve({}));
});

test('the gateway origin follows the WebSocket scheme', () => {
  assert.equal(gatewayOrigin('wss://runner.example.org/__runner'), 'https://runner.example.org');
  assert.equal(gatewayOrigin('ws://127.0.0.1:8788/__runner'), 'http://127.0.0.1:8788');
  assert.equal(gatewayOrigin('wss://runner.example.org:443/x'), 'https://runner.example.org');
});

test('a preview path resolves on the gateway origin; a path that would lead elsewhere is refused', () => {
  const url = 'wss://runner.example.org:8443/__runner';
  assert.deepEqual(resolvePreview(`/__runner/preview/${cap}/`, url), { origin: 'https://runner.example.org:8443', path: `/__runner/preview/${cap}/` });
  for (const path of ['//evil.example/x/', 'https://evil.example/x/', '/\\evil.example/', 'relative/x/', '']) assert.equal(resolvePreview(path, url), undefined, path);
});

test('the page\'s preview URLs on the gateway: absolute, cross-origin, without a token', () => {
  const access = { origin: 'https://runner.example.org', path: `/__runner/preview/${cap}/` };
  const page = { protocol: 'https:', host: 'course.example.org' };
  assert.equal(previewUrl(access, '/items/3?q=x'), `https://runner.example.org/__runner/preview/${cap}/items/3?q=x`);
  assert.equal(previewSocketUrl(access, '/ws/lobby', page), `wss://runner.example.org/__runner/preview/${cap}/ws/lobby`);
  assert.equal(previewSocketUrl({ origin: 'http://127.0.0.1:8788', path: access.path }, '/ws', page), `ws://127.0.0.1:8788/__runner/preview/${cap}/ws`);
  // The local runner's stay as they were: relative, token in the WebSocket query.
  assert.equal(previewSocketUrl({ path: access.path, token: 't' }, '/ws', { protocol: 'http:', host: '127.0.0.1:4321' }), `ws://127.0.0.1:4321/__runner/preview/${cap}/ws?__asynclab_token=t`);
});
