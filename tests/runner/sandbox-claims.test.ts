/**
 * Every claim a lesson makes about timing is checked: each sandbox has an `expect` and a
 * committed recording; the recording, and a fresh run right now, must both satisfy it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultLimits } from '../../src/runner/limits.ts';
import { Runner } from '../../src/runner/runner.ts';
import { listSandboxIds, loadSandbox } from '../../src/sandbox/load-sandbox.ts';
import { recording, recordingFile } from '../../src/sandbox/recording.ts';
import { checkExpect, explainFailures } from '../../src/timeline/expect.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { runAndCheck } from '../../src/tools/record.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const sandboxesDir = path.join(root, 'sandboxes');
const ids = await listSandboxIds(sandboxesDir);
let runner: Runner;

before(async () => {
  // Two at a time, as `npm run record` does: timings stay honest on a 2-core machine.
  runner = await Runner.start({ limits: { ...defaultLimits, concurrency: 2 } });
});
after(() => runner.close());

test('every sandbox states a timing claim and has a recording of it', async () => {
  for (const id of ids) {
    const { manifest } = await loadSandbox(sandboxesDir, id, root);
    assert.ok(manifest.expect && Object.keys(manifest.expect).length > 0, `${id}: no expect`);
    assert.ok(existsSync(path.join(sandboxesDir, id, recordingFile)), `${id}: no ${recordingFile} (run npm run record -- ${id})`);
  }
});

test('every committed recording satisfies its sandbox\'s claim', async () => {
  for (const id of ids) {
    const { manifest } = await loadSandbox(sandboxesDir, id, root);
    const recorded = recording.parse(JSON.parse(readFileSync(path.join(sandboxesDir, id, recordingFile), 'utf8')));
    const failures = explainFailures(checkExpect(manifest.expect ?? {}, buildModel(recorded.trace), { exitCode: recorded.exit.code, stdout: recorded.stdout }));
    assert.equal(failures, '', `${id} (recorded ${recorded.recordedAt}): ${failures}`);
  }
});

test('every sandbox, run fresh now, still satisfies its claim', async () => {
  // Submit no more than the runner runs at once: the course has more sandboxes than its queue holds.
  const results: Array<{ id: string; failures: string }> = [];
  const pending = [...ids];
  const lane = async () => {
    for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
      results.push({ id, ...(await runAndCheck(runner, id, await loadSandbox(sandboxesDir, id, root))) });
    }
  };
  await Promise.all([lane(), lane()]);
  const failed = results.filter((r) => r.failures).map((r) => `${r.id}: ${r.failures}`);
  assert.deepEqual(failed, []);
});
