/**
 * Challenges (issue 19): the schema's bounds, the loader's file-and-field errors, the
 * scaffold, and check:content's cheap half of the two-way check, on temporary sandboxes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sandboxChallenge, type SandboxChallengeInput } from '../../src/protocol/challenge.ts';
import { loadChallenges } from '../../src/sandbox/load-challenges.ts';
import { loadSandbox, SandboxError } from '../../src/sandbox/load-sandbox.ts';
import { checkContent } from '../../src/tools/check-content.ts';
import { newChallenge, NewChallengeError } from '../../src/tools/new-challenge.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const text = (en: string, zh: string) => ({ en, zh });

const valid = (): SandboxChallengeInput => ({
  id: 'await-it',
  title: text('Await it', '改用 await'),
  task: text('Change `time.sleep` to `await asyncio.sleep`.', '把 `time.sleep` 改为 `await asyncio.sleep`。'),
  predict: { question: text('How long?', '要多久？'), choices: [text('1 s', '1 s'), text('5 s', '5 s')] },
  goal: { concurrent: { lane: 'task', min: 2 } },
  hints: [text('Look at the sleep.', '看看那次 sleep。')],
});

const issues = (value: unknown) => {
  const r = sandboxChallenge.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('the schema takes a complete challenge and bounds hints, choices and the goal', () => {
  assert.deepEqual(issues(valid()), []);
  const { predict: _, ...noPredict } = valid();
  assert.deepEqual(issues(noPredict), [], 'predict is optional');
  assert.match(issues({ ...valid(), hints: [] }).join(), /hints: needs 1 to 3 hints/);
  assert.match(issues({ ...valid(), hints: Array(4).fill(text('a', '甲')) }).join(), /hints: needs 1 to 3 hints/);
  assert.match(issues({ ...valid(), predict: { question: text('q', '问'), choices: [text('a', '甲')] } }).join(), /predict.choices: needs 2 to 4 choices/);
  assert.match(issues({ ...valid(), predict: { question: text('q', '问'), choices: Array(5).fill(text('a', '甲')) } }).join(), /predict.choices: needs 2 to 4 choices/);
  assert.match(issues({ ...valid(), goal: {} }).join(), /goal: names at least one rule/);
  assert.match(issues({ ...valid(), goal: { peakConcurrency: { lane: 'tasks', min: 2 } } }).join(), /goal.peakConcurrency/);
  assert.match(issues({ ...valid(), title: { en: 'x' } }).join(), /title.zh/);
  assert.match(issues({ ...valid(), id: 'Await_It' }).join(), /id: lowercase words joined by dashes/);
  assert.match(issues({ ...valid(), solution: 'x' }).join(), /Unrecognized key/, 'strict: an unknown field is an error');
});

/** A temporary project with one sandbox (a copy of event-loop-two-sleeps) and one challenge on it. */
async function project(): Promise<{ root: string; sandboxes: string; dir: string; done: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'asynclab-challenges-'));
  const sandboxes = path.join(root, 'sandboxes');
  await cp(path.join(repo, 'sandboxes', 'event-loop-two-sleeps'), path.join(sandboxes, 'two'), { recursive: true, filter: (src) => !src.includes(`${path.sep}challenges`) });
  const manifest = JSON.parse(await readFile(path.join(sandboxes, 'two', 'sandbox.json'), 'utf8'));
  await writeFile(path.join(sandboxes, 'two', 'sandbox.json'), JSON.stringify({ ...manifest, id: 'two' }));
  const dir = path.join(sandboxes, 'two', 'challenges', 'await-it');
  await mkdir(path.join(dir, 'solution'), { recursive: true });
  await writeFile(path.join(dir, 'challenge.json'), JSON.stringify(valid(), null, 2));
  await writeFile(path.join(dir, 'solution', 'two_sleeps.py'), '# solved\n');
  return { root, sandboxes, dir, done: () => rm(root, { recursive: true, force: true }) };
}

async function problemsOf(load: Promise<unknown>): Promise<string[]> {
  try {
    await load;
  } catch (err) {
    assert.ok(err instanceof SandboxError, String(err));
    return err.problems.map((p) => `${p.file} → ${p.field}: ${p.message}`);
  }
  return [];
}

test('the loader reads a challenge and its solution; the sandbox itself does not take challenges/ as code', async () => {
  const p = await project();
  try {
    const [loaded, ...rest] = await loadChallenges(p.sandboxes, 'two', p.root);
    assert.equal(rest.length, 0);
    assert.equal(loaded!.challenge.id, 'await-it');
    assert.deepEqual(loaded!.solution, { 'two_sleeps.py': '# solved\n' });
    assert.deepEqual(Object.keys((await loadSandbox(p.sandboxes, 'two', p.root)).files), ['two_sleeps.py']);
    assert.deepEqual(await loadChallenges(path.join(repo, 'sandboxes'), 'event-loop-node-timers', repo), [], 'no challenges/ folder: none');
  } finally {
    await p.done();
  }
});

test('loader errors name the file and the field', async () => {
  const p = await project();
  const file = 'sandboxes/two/challenges/await-it/challenge.json';
  const solution = 'sandboxes/two/challenges/await-it/solution';
  try {
    await writeFile(path.join(p.dir, 'challenge.json'), JSON.stringify({ ...valid(), id: 'other', hints: [], goal: { spanMs: { lane: 'task', min: 1, oops: 2 } } }));
    await writeFile(path.join(p.dir, 'solution', 'nope.py'), 'x\n');
    await writeFile(path.join(p.dir, 'solution', 'two_sleeps.py'), await readFile(path.join(p.sandboxes, 'two', 'two_sleeps.py')));
    const found = await problemsOf(loadChallenges(p.sandboxes, 'two', p.root));
    assert.ok(found.includes(`${file} → hints: needs 1 to 3 hints`), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith(`${file} → goal.spanMs.oops:`)), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith(`${solution}/nope.py → solution: nope.py is not one of the sandbox's files`)), found.join('\n'));
    assert.ok(found.includes(`${solution}/two_sleeps.py → solution: is the same as the sandbox's two_sleeps.py: a solution changes the code`), found.join('\n'));

    await writeFile(path.join(p.dir, 'challenge.json'), JSON.stringify({ ...valid(), id: 'other' }));
    assert.ok((await problemsOf(loadChallenges(p.sandboxes, 'two', p.root))).includes(`${file} → id: is "other" but the folder is "await-it"`));

    await writeFile(path.join(p.dir, 'challenge.json'), '{ "id": ');
    assert.match((await problemsOf(loadChallenges(p.sandboxes, 'two', p.root))).join(), new RegExp(`${file} → json:`));

    await rm(path.join(p.dir, 'solution'), { recursive: true });
    await writeFile(path.join(p.dir, 'challenge.json'), JSON.stringify(valid()));
    assert.match((await problemsOf(loadChallenges(p.sandboxes, 'two', p.root))).join(), new RegExp(`${solution} → solution: missing`));

    await mkdir(path.join(p.sandboxes, 'two', 'challenges', 'Bad_Name'));
    const named = await problemsOf(loadChallenges(p.sandboxes, 'two', p.root));
    assert.ok(named.includes('sandboxes/two/challenges/Bad_Name → folder name: lowercase words joined by dashes (it is the challenge id)'), named.join('\n'));
    assert.ok(named.includes('sandboxes/two/challenges/Bad_Name/challenge.json → file: missing'), named.join('\n'));
  } finally {
    await p.done();
  }
});

test('check:content reports a challenge with file:line, and a goal the shipped recording already meets', async () => {
  const p = await project();
  const file = 'sandboxes/two/challenges/await-it/challenge.json';
  const ours = async () => (await checkContent(p.root)).problems.filter((x) => x.file.startsWith('sandboxes/two/challenges/')).map((x) => `${x.file}:${x.line}: ${x.message}`);
  try {
    // The two_sleeps recording has overlapping tasks: the goal above is already met.
    const met = await ours();
    assert.equal(met.length, 1, met.join('\n'));
    assert.match(met[0]!, new RegExp(`^${file}:\\d+: goal: the recording of the shipped code already meets it`));
    const line = Number(/:(\d+):/.exec(met[0]!)![1]);
    assert.match((await readFile(path.join(p.root, file), 'utf8')).split('\n')[line - 1]!, /"goal"/);

    await writeFile(path.join(p.dir, 'challenge.json'), JSON.stringify({ ...valid(), goal: { wallMs: { min: 60_000 } } }, null, 2));
    assert.deepEqual(await ours(), [], 'a goal the recording misses is fine');

    await writeFile(path.join(p.dir, 'challenge.json'), JSON.stringify({ ...valid(), goal: { wallMs: { min: 60_000 } }, hints: [] }, null, 2));
    const bad = await ours();
    assert.equal(bad.length, 1, bad.join('\n'));
    assert.match(bad[0]!, new RegExp(`^${file}:\\d+: hints: needs 1 to 3 hints`));
    assert.match((await readFile(path.join(p.root, file), 'utf8')).split('\n')[Number(/:(\d+):/.exec(bad[0]!)![1]) - 1]!, /"hints"/);
  } finally {
    await p.done();
  }
});

test('new:challenge scaffolds a folder that loads, warns of its TODOs, and never overwrites', async () => {
  const p = await project();
  try {
    const { files } = await newChallenge({ root: p.root, sandboxId: 'two', challengeId: 'my-turn' });
    assert.deepEqual(files, ['sandboxes/two/challenges/my-turn/challenge.json', 'sandboxes/two/challenges/my-turn/solution/two_sleeps.py']);
    const loaded = await loadChallenges(p.sandboxes, 'two', p.root);
    assert.deepEqual(loaded.map((l) => l.challenge.id), ['await-it', 'my-turn']);
    const problems = (await checkContent(p.root)).problems.filter((x) => x.file.startsWith('sandboxes/two/challenges/my-turn/'));
    assert.ok(problems.length > 0 && problems.every((x) => x.severity === 'warning' && /TODO/.test(x.message)), problems.map((x) => x.message).join('\n'));
    await assert.rejects(newChallenge({ root: p.root, sandboxId: 'two', challengeId: 'my-turn' }), /exists already; nothing was written/);
    await assert.rejects(newChallenge({ root: p.root, sandboxId: 'nope', challengeId: 'x' }), (e: Error) => e instanceof NewChallengeError && /no sandbox "nope"/.test(e.message));
    await assert.rejects(newChallenge({ root: p.root, sandboxId: 'two', challengeId: 'My_Turn' }), /not a usable challenge id/);
  } finally {
    await p.done();
  }
});

test('every challenge in the course loads, and there are at least six', async () => {
  const { listSandboxIds } = await import('../../src/sandbox/load-sandbox.ts');
  let count = 0;
  for (const id of await listSandboxIds(path.join(repo, 'sandboxes'))) count += (await loadChallenges(path.join(repo, 'sandboxes'), id, repo)).length;
  assert.ok(count >= 6, `${count} challenges`);
});
