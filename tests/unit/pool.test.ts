/**
 * The runner's pool: round-robin between owners' queues, a cap on each owner's waiting
 * runs, and a full queue that still takes an owner's first waiting run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool, type PoolTask } from '../../src/runner/pool.ts';

/** A task that runs until released, recording when it started and the positions it was told. */
function gate(name: string, started: string[]) {
  let release!: () => void;
  const finished = new Promise<void>((resolve) => (release = resolve));
  const positions: number[] = [];
  const task: PoolTask = {
    run: async () => {
      started.push(name);
      await finished;
    },
    onQueued: (p) => positions.push(p),
  };
  return { task, positions, release: () => release() };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("one owner's backlog does not starve another's: waiting runs start round-robin", async () => {
  const pool = new Pool(1, 100, 10);
  const started: string[] = [];
  const hog = {};
  const reader = {};
  const first = gate('hog0', started);
  pool.submit(first.task, hog);
  const hogs = Array.from({ length: 5 }, (_, i) => gate(`hog${i + 1}`, started));
  for (const g of hogs) assert.ok(!('refused' in pool.submit(g.task, hog)));
  const mine = gate('reader', started);
  assert.ok(!('refused' in pool.submit(mine.task, reader)));
  assert.deepEqual(mine.positions, [2], 'second in line, behind one of the hog\'s runs, not all five');
  assert.deepEqual(hogs[1]!.positions, [2, 3], 'the hog\'s second run moves back behind the reader');
  first.release();
  await tick();
  hogs[0]!.release();
  await tick();
  assert.deepEqual(started, ['hog0', 'hog1', 'reader']);
  mine.release();
  for (const g of hogs) g.release();
  await tick();
});

test('each owner may have only so many runs waiting; the refusal says so', () => {
  const pool = new Pool(1, 100, 2);
  const started: string[] = [];
  const owner = {};
  pool.submit(gate('running', started).task, owner);
  assert.ok(!('refused' in pool.submit(gate('w1', started).task, owner)));
  assert.ok(!('refused' in pool.submit(gate('w2', started).task, owner)));
  assert.deepEqual(pool.submit(gate('w3', started).task, owner), { refused: 'owner-queue-full', waiting: 2 });
  assert.ok(!('refused' in pool.submit(gate('other', started).task, {})), 'another owner still queues');
});

test('a full queue refuses as busy, except an owner\'s first waiting run', () => {
  const pool = new Pool(1, 3, 3);
  const started: string[] = [];
  const hog = {};
  pool.submit(gate('running', started).task, hog);
  for (let i = 0; i < 3; i++) assert.ok(!('refused' in pool.submit(gate(`w${i}`, started).task, hog)));
  const other = {};
  assert.ok(!('refused' in pool.submit(gate('first', started).task, other)), 'an owner with nothing waiting is taken');
  assert.deepEqual(pool.submit(gate('second', started).task, other), { refused: 'busy' });
  assert.deepEqual(pool.stats, { running: 1, queued: 4 });
});

test('a cancelled waiting run leaves the queue and the others move up', async () => {
  const pool = new Pool(1, 10, 10);
  const started: string[] = [];
  const running = gate('running', started);
  pool.submit(running.task, {});
  const a = gate('a', started);
  const b = gate('b', started);
  const sa = pool.submit(a.task, {});
  pool.submit(b.task, {});
  assert.ok(!('refused' in sa));
  assert.equal(sa.cancel(), true);
  assert.deepEqual(b.positions, [2, 1]);
  running.release();
  await tick();
  assert.deepEqual(started, ['running', 'b']);
  b.release();
  await tick();
});
