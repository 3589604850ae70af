/**
 * Every claim a lesson makes about timing is checked: each sandbox has an `expect` and a
 * committed recording; the recording, and fresh runs right now, must all satisfy it.
 *
 * Fresh runs come twice: at full speed, and with each run's cgroup limited to a fraction
 * of one CPU (THROTTLED_CPU), as on a much slower or busier machine than ours. A claim
 * that names milliseconds for CPU-bound work fails one pass or the other; claims that
 * compare quantities of the same run (README: relative rules) hold in both.
 *
 * ASYNCLAB_CLAIMS_ONLY=id,id runs only those sandboxes (while writing a claim).
 */
import { test, before, after } from 'node:test';
import { performance } from 'node:perf_hooks';
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
const only = process.env.ASYNCLAB_CLAIMS_ONLY?.split(',').filter(Boolean);
const ids = (await listSandboxIds(sandboxesDir)).filter((id) => !only || only.includes(id));

/**
 * The throttled pass: 40 % of one CPU for each run, all its processes and threads
 * together. Low enough that CPU-bound work takes 2.5 times as long as at full speed (so
 * absolute bounds on it break), high enough that the runs' own overhead (interpreter
 * start, uvicorn, the load driver, a new httpx client per call) still fits between the
 * timers the lessons set: at 30 %, on this 2-core machine while other work ran,
 * many-calls-at-once-shared-client's calls (200 ms apart) began to overlap, which changes
 * the connection counts that lesson quotes.
 */
const THROTTLED_CPU = 0.4;

let runner: Runner;
let throttled: Runner;

before(async () => {
  // Two at a time, as `npm run record` does: timings stay honest on a 2-core machine.
  runner = await Runner.start({ limits: { ...defaultLimits, concurrency: 2 } });
  // Three throttled runs use 1.2 CPUs at most: they do not compete with each other for the
  // machine's two cores, so each gets its 40 % however many run, and the pass is quicker.
  throttled = await Runner.start({ limits: { ...defaultLimits, concurrency: 3, cpuFraction: THROTTLED_CPU } });
});
after(async () => {
  await runner.close();
  await throttled.close();
});

/** Runs every sandbox on `on`, `lanes` at a time; the failures, one line per sandbox. */
async function runAll(on: Runner, lanes: number): Promise<string[]> {
  // Submit no more than the runner runs at once: the course has more sandboxes than its queue holds.
  const results: Array<{ id: string; failures: string }> = [];
  const pending = [...ids];
  const lane = async () => {
    for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
      results.push({ id, ...(await runAndCheck(on, id, await loadSandbox(sandboxesDir, id, root))) });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: lanes }, lane));
  console.log(`# ${ids.length} sandboxes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return results.filter((r) => r.failures).map((r) => `${r.id}: ${r.failures}`);
}

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

test('every sandbox, run fresh now at full speed, still satisfies its claim', async () => {
  assert.deepEqual(await runAll(runner, 2), []);
});

test(`every sandbox, run fresh on ${THROTTLED_CPU * 100} % of one CPU, still satisfies its claim`, async () => {
  assert.deepEqual(await runAll(throttled, 3), []);
});
