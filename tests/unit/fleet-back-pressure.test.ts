/**
 * The bounded fleet queue (src/fleet/back-pressure.ts): below ASYNCLAB_QUEUE_MAX a run is admitted;
 * at or beyond it, refused as `busy` with a retry time that grows with the excess and shrinks with
 * the fleet's capacity.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitToQueue, defaultQueueMax, queueMaxFromEnv, readQueueState } from '../../src/fleet/back-pressure.ts';
import { describeReason } from '../../src/protocol/reasons.ts';

test('runs are admitted below the bound and refused as busy at it', () => {
  assert.deepEqual(admitToQueue({ waiting: 9, running: 6, capacity: 6 }, { queueMax: 10 }), { ok: true });
  const refused = admitToQueue({ waiting: 10, running: 6, capacity: 6 }, { queueMax: 10, typicalRunSeconds: 6 });
  assert.equal(refused.ok, false);
  if (refused.ok) return;
  assert.equal(refused.reason.code, 'busy');
  assert.equal(refused.reason.params?.queued, 10);
  assert.equal(refused.reason.params?.running, 6);
  // One run must leave: 1 × 6 s / 6 slots = 1 s.
  assert.equal(refused.reason.params?.retrySeconds, 1);
  assert.match(describeReason(refused.reason, 'en'), /try again in 1 s/);
  assert.match(describeReason(refused.reason, 'zh'), /1 秒后再试/);
});

test('the retry time follows the excess and the capacity, with bounds', () => {
  const retry = (waiting: number, capacity: number, options: Partial<Parameters<typeof admitToQueue>[1]> = {}) => {
    const result = admitToQueue({ waiting, running: capacity, capacity }, { queueMax: 100, typicalRunSeconds: 4, ...options });
    assert.equal(result.ok, false);
    return result.ok ? 0 : Number(result.reason.params?.retrySeconds);
  };
  assert.equal(retry(129, 3), 40); // 30 to drain × 4 s / 3 slots
  assert.ok(retry(129, 6) < retry(129, 3));
  assert.ok(retry(160, 3) > retry(129, 3));
  assert.equal(retry(100, 0), 30); // no node alive: the fixed hint
  assert.equal(retry(100, 0, { noCapacityRetrySeconds: 12 }), 12);
  assert.equal(retry(100_000, 1), 600);
});

test('ASYNCLAB_QUEUE_MAX is read and checked', () => {
  assert.equal(queueMaxFromEnv({}), defaultQueueMax);
  assert.equal(queueMaxFromEnv({ ASYNCLAB_QUEUE_MAX: ' 50 ' }), 50);
  for (const bad of ['0', '-1', '1.5', 'lots', '1000001']) assert.throws(() => queueMaxFromEnv({ ASYNCLAB_QUEUE_MAX: bad }), /ASYNCLAB_QUEUE_MAX/);
});

test("the queue state is BullMQ's waiting plus prioritized, and its active jobs", async () => {
  const asked: string[][] = [];
  const state = await readQueueState({ getJobCounts: async (...types) => (asked.push(types), { waiting: 4, prioritized: 3, active: 5 }) }, 6);
  assert.deepEqual(state, { waiting: 7, running: 5, capacity: 6 });
  assert.deepEqual(asked, [['waiting', 'prioritized', 'active']]);
});
