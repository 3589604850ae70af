/**
 * A sandbox's data, loaded on intent: the endpoint's payload (files and recorded trace, and a
 * version that follows the content) and the page's loader (one fetch per URL, a failure
 * retried on the next intent, a malformed reply refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { payloadBody, payloadPath, sandboxIds, sandboxPayload } from '../../src/sandbox/sandbox-data.ts';
import { createDataLoader, parsePayload } from '../../src/client/sandbox/data-loader.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the payload carries the files and the recorded trace; its version changes with either', async () => {
  const ids = sandboxIds(root);
  assert.ok(ids.includes('async-def-vs-def'));
  assert.ok(ids.every((id) => !id.startsWith('_')));
  const payload = await sandboxPayload(root, 'async-def-vs-def');
  assert.match(payload.files['main.py']!, /async def/);
  assert.ok(payload.recorded && payload.recorded.length > 10);
  const { body, version } = payloadBody(payload);
  assert.deepEqual(JSON.parse(body), payload);
  assert.match(version, /^[0-9a-f]{12}$/);
  assert.equal(payloadBody(payload).version, version, 'stable for the same content');
  assert.notEqual(payloadBody({ ...payload, files: { ...payload.files, 'main.py': `${payload.files['main.py']}#` } }).version, version);
  assert.notEqual(payloadBody({ ...payload, recorded: null }).version, version);
  assert.equal(payloadPath('async-def-vs-def', version), `/sandbox-data/async-def-vs-def.json?v=${version}`);
  // Its challenges come with it (never in the page's HTML): goal, hints and the solution's files.
  const [first] = payload.challenges;
  assert.equal(first?.challenge.id, 'await-the-sleep');
  assert.match(first!.solution['main.py']!, /await asyncio\.sleep\(1\)/);
  assert.ok(!('challenges/await-the-sleep/challenge.json' in payload.files), 'challenge files are not sandbox code');
  assert.notEqual(payloadBody({ ...payload, challenges: [] }).version, version);
});

const reply = (status: number, body: unknown) => Promise.resolve({ ok: status >= 200 && status < 300, status, json: () => Promise.resolve(body) });

test('the loader fetches once per URL and shares the answer', async () => {
  const asked: string[] = [];
  const load = createDataLoader((url) => {
    asked.push(url);
    return reply(200, { files: { 'main.py': 'print(1)\n' }, recorded: null });
  });
  const [a, b] = await Promise.all([load('/sandbox-data/x.json?v=1'), load('/sandbox-data/x.json?v=1')]);
  assert.equal(a, b);
  assert.deepEqual(a.files, { 'main.py': 'print(1)\n' });
  await load('/sandbox-data/y.json?v=1');
  assert.deepEqual(asked, ['/sandbox-data/x.json?v=1', '/sandbox-data/y.json?v=1']);
});

test('a failed fetch is retried by the next caller; an HTTP error says its status', async () => {
  let calls = 0;
  const load = createDataLoader(() => {
    calls += 1;
    if (calls === 1) return Promise.reject(new Error('offline'));
    if (calls === 2) return reply(404, {});
    return reply(200, { files: { 'a.py': '' }, recorded: ['{"ts":0}'] });
  });
  await assert.rejects(load('/d.json'), /offline/);
  await assert.rejects(load('/d.json'), /HTTP 404/);
  assert.deepEqual((await load('/d.json')).recorded, ['{"ts":0}']);
  assert.equal(calls, 3);
});

test('a reply of the wrong shape is refused, naming what is wrong', () => {
  assert.throws(() => parsePayload(null), /not an object/);
  assert.throws(() => parsePayload({ files: {}, recorded: null }), /no files/);
  assert.throws(() => parsePayload({ files: { 'a.py': 1 }, recorded: null }), /no files/);
  assert.throws(() => parsePayload({ files: { 'a.py': '' }, recorded: [1] }), /malformed recording/);
  assert.throws(() => parsePayload({ files: { 'a.py': '' } }), /malformed recording/);
  assert.deepEqual(parsePayload({ files: { 'a.py': '' }, recorded: null }), { files: { 'a.py': '' }, recorded: null, challenges: [] });
  assert.throws(() => parsePayload({ files: { 'a.py': '' }, recorded: null, challenges: {} }), /malformed challenge/);
  assert.throws(() => parsePayload({ files: { 'a.py': '' }, recorded: null, challenges: [{ challenge: { id: 'x' }, solution: {} }] }), /malformed challenge/);
  const good = { challenge: { id: 'x', task: { en: 't', zh: 't' }, goal: { exitCode: 0 }, hints: [] }, solution: { 'a.py': 'x' } };
  assert.deepEqual(parsePayload({ files: { 'a.py': '' }, recorded: null, challenges: [good] }).challenges, [good]);
});
