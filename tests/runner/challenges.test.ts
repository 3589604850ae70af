/**
 * Every challenge is checked both ways (issue 19): the sandbox as shipped, run fresh, must
 * NOT meet the challenge's goal (or the reader has nothing to do), and the sandbox with the
 * solution's files in place MUST meet it. With the real runner, two runs at a time as the
 * claims test does, and again with each run on 40 % of one CPU (a goal must hold on any CPU);
 * then, for the sandboxes the in-browser Pyodide engine runs, in Pyodide.
 * A failure is one sentence naming the sandbox, the challenge and the rule.
 *
 * ASYNCLAB_CHALLENGES_ONLY=sandbox-id,sandbox-id checks only those sandboxes' challenges.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { loadPyodide } from 'pyodide';
import { defaultLimits } from '../../src/runner/limits.ts';
import { Runner } from '../../src/runner/runner.ts';
import { PyodideEngine } from '../../src/engines/pyodide.ts';
import { harnessFileNames, PyodideSession, type HarnessFiles } from '../../src/engines/pyodide-session.ts';
import type { SandboxChallenge } from '../../src/protocol/challenge.ts';
import { loadChallenges, solvedFiles } from '../../src/sandbox/load-challenges.ts';
import { listSandboxIds, loadSandbox, type Sandbox } from '../../src/sandbox/load-sandbox.ts';
import { checkExpect, type ExpectResult, type RunOutcome } from '../../src/timeline/expect.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { pyodidePackage } from '../../src/tools/pyodide-assets.ts';
import { runAndCheck } from '../../src/tools/record.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const sandboxesDir = path.join(root, 'sandboxes');
const only = process.env.ASYNCLAB_CHALLENGES_ONLY?.split(',').filter(Boolean);

interface Case {
  sandbox: Sandbox;
  challenge: SandboxChallenge;
  solved: Sandbox;
}

const cases: Case[] = [];
for (const id of await listSandboxIds(sandboxesDir)) {
  if (only && !only.includes(id)) continue;
  const sandbox = await loadSandbox(sandboxesDir, id, root);
  for (const { challenge, solution } of await loadChallenges(sandboxesDir, id, root, sandbox.files)) {
    cases.push({ sandbox, challenge, solved: { ...sandbox, files: solvedFiles(sandbox.files, solution) } });
  }
}

/** The two-way verdict on one pair of runs, as sentences; empty when the challenge holds. */
function verdict(c: Case, shipped: ExpectResult[], solved: ExpectResult[], engine: string): string[] {
  const name = `${c.sandbox.manifest.id} / ${c.challenge.id} (${engine})`;
  const out: string[] = [];
  if (shipped.every((r) => r.ok)) out.push(`${name}: the shipped code already meets the goal: ${shipped.map((r) => r.message).join('; ')}`);
  for (const r of solved.filter((r) => !r.ok)) out.push(`${name}: the solution misses a rule: ${r.message}`);
  return out;
}

const check = (c: Case, trace: string[], run: RunOutcome) => checkExpect(c.challenge.goal, buildModel(trace), run);

/** As the claims test's throttled pass: each run on 40 % of one CPU, as on a much slower or busier machine. */
const THROTTLED_CPU = 0.4;

let runner: Runner;
let throttled: Runner;
before(async () => {
  runner = await Runner.start({ limits: { ...defaultLimits, concurrency: 2 } });
  throttled = await Runner.start({ limits: { ...defaultLimits, concurrency: 3, cpuFraction: THROTTLED_CPU } });
});
after(async () => {
  await runner.close();
  await throttled.close();
});

test('there are challenges to check, each sandbox\'s ids unique', () => {
  if (only) return;
  assert.ok(cases.length >= 6, `only ${cases.length} challenges`);
  const keys = cases.map((c) => `${c.sandbox.manifest.id}/${c.challenge.id}`);
  assert.equal(new Set(keys).size, keys.length);
});

/** Runs the shipped code and the solution of every challenge on `on`, `lanes` runs at a time; the problems. */
async function twoWay(on: Runner, lanes: number, engine: string): Promise<string[]> {
  const started = performance.now();
  const jobs = cases.flatMap((c) => [
    { c, which: 'shipped' as const, sandbox: c.sandbox },
    { c, which: 'solved' as const, sandbox: c.solved },
  ]);
  const results = new Map<Case, { shipped?: ExpectResult[]; solved?: ExpectResult[]; errors: string[] }>(cases.map((c) => [c, { errors: [] }]));
  const lane = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      // The sandbox's own claim is not this test's business (sandbox-claims.test.ts checks it): an empty one.
      const { recording, failures } = await runAndCheck(on, job.c.sandbox.manifest.id, { ...job.sandbox, manifest: { ...job.sandbox.manifest, expect: {} } });
      const slot = results.get(job.c)!;
      if (failures) slot.errors.push(`${job.c.sandbox.manifest.id} / ${job.c.challenge.id} (${engine}): the ${job.which} run failed: ${failures}`);
      slot[job.which] = check(job.c, recording.trace, { exitCode: recording.exit.code, stdout: recording.stdout });
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  console.log(`# ${engine}: ${cases.length} challenges, ${cases.length * 2} runs, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return [...results].flatMap(([c, r]) => [...r.errors, ...verdict(c, r.shipped ?? [], r.solved ?? [], engine)]);
}

test('with the local runner, every challenge\'s shipped code misses its goal and its solution meets it', async () => {
  assert.deepEqual(await twoWay(runner, 2, 'local runner'), []);
});

test(`with the local runner on ${THROTTLED_CPU * 100} % of one CPU, every challenge still holds both ways`, async () => {
  assert.deepEqual(await twoWay(throttled, 3, `local runner, ${THROTTLED_CPU * 100} % CPU`), []);
});

test('in Pyodide, every challenge on a sandbox the browser engine runs holds both ways', async () => {
  const engine = new PyodideEngine({ assetsUrl: 'unused', createWorker: () => assert.fail('no worker in this test') });
  const here = cases.filter((c) => engine.supports(c.sandbox.manifest).ok);
  if (!here.length) return;
  const harness: HarnessFiles = {};
  for (const name of harnessFileNames) harness[name] = await readFile(path.join(sandboxesDir, '_harness', 'python', name), 'utf8');
  const started = performance.now();
  const session = await PyodideSession.boot((options) => loadPyodide(options), { harness, lockInfo: pyodidePackage().lockInfo });
  const run = (c: Case, sandbox: Sandbox) => {
    let stdout = '';
    const trace: string[] = [];
    const result = session.run(sandbox.files, sandbox.manifest.entry, { stdout: (t) => (stdout += t), stderr: () => {}, trace: (l) => trace.push(l) });
    return check(c, trace, { exitCode: result.code, stdout });
  };
  const problems = here.flatMap((c) => verdict(c, run(c, c.sandbox), run(c, c.solved), 'Pyodide'));
  console.log(`# ${here.length} challenges in Pyodide in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assert.deepEqual(problems, []);
});
