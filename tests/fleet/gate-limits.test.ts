/**
 * Per-client limits and back-pressure against a real Redis (the fleet's own, src/fleet/redis-server.ts):
 * two ClientLimits instances are two gateways sharing one Redis. What must hold: counts are shared;
 * a refusal names its limit and when to retry; a dead gateway's holds heal after the lease while a
 * live gateway's holds outlast it; releasing twice (or after the count vanished) never goes below
 * zero; with Redis gone a check fails at once as fleet-unavailable and works again when it returns;
 * a full BullMQ queue refuses as busy.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { admitToQueue, readQueueState } from '../../src/fleet/back-pressure.ts';
import { ClientLimits, defaultClientLimits, type Admission, type ClientLimitsConfig, type Hold } from '../../src/fleet/client-limits.ts';
import { fleetPrefix } from '../../src/fleet/contract.ts';
import { startFleetRedis, type FleetRedis } from '../../src/fleet/redis-server.ts';
import { describeReason } from '../../src/protocol/reasons.ts';

let redis: FleetRedis;
const connections: Redis[] = [];
const opened: ClientLimits[] = [];

before(async () => {
  redis = await startFleetRedis();
});

after(async () => {
  await Promise.allSettled(opened.map((l) => l.close()));
  for (const c of connections) c.disconnect();
  await redis.close();
});

function connect(): Redis {
  const client = new Redis({ path: redis.socket, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // the Redis-restart test takes it away on purpose
  connections.push(client);
  return client;
}

/** A "gateway": its own Redis connection and its own ClientLimits. */
async function gateway(config: Partial<ClientLimitsConfig> = {}): Promise<ClientLimits> {
  const limits = await ClientLimits.open(connect(), { ...defaultClientLimits, ...config });
  opened.push(limits);
  return limits;
}

function held(admission: Admission): Hold {
  assert.ok(admission.ok, admission.ok ? '' : admission.reason.message);
  return admission.hold;
}

function refusedFor(admission: Admission, limit: string): number {
  assert.equal(admission.ok, false, `expected a ${limit} refusal`);
  if (admission.ok) return 0;
  assert.equal(admission.reason.code, 'rate-limit');
  assert.equal(admission.reason.params?.limit, limit);
  const retry = Number(admission.reason.params?.retrySeconds);
  assert.ok(Number.isInteger(retry) && retry >= 1, `retrySeconds ${retry}`);
  assert.match(describeReason(admission.reason, 'en'), new RegExp(`try again in ${retry} s`));
  assert.match(describeReason(admission.reason, 'zh'), new RegExp(`请 ${retry} 秒后再试`));
  return retry;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let clientSeq = 0;
const newClient = () => `client${(clientSeq += 1)}-${process.pid}`;

test('two gateways share one count of concurrent runs; other clients are unaffected; a release frees a slot anywhere', async () => {
  const [a, b] = [await gateway(), await gateway()];
  const greedy = newClient();
  const first = held(await a.admitRun(greedy));
  held(await b.admitRun(greedy));
  assert.equal(refusedFor(await a.admitRun(greedy), 'concurrent-runs'), defaultClientLimits.holdRetrySeconds);
  refusedFor(await b.admitRun(greedy), 'concurrent-runs');
  assert.equal((await a.held(greedy)).runs, 2);
  held(await b.admitRun(newClient()));
  await first.release();
  held(await b.admitRun(greedy));
});

test('open connections are limited per client across gateways', async () => {
  const [a, b] = [await gateway({ connections: 3 }), await gateway({ connections: 3 })];
  const client = newClient();
  const holds = [held(await a.admitConnection(client)), held(await b.admitConnection(client)), held(await a.admitConnection(client))];
  refusedFor(await b.admitConnection(client), 'connections');
  // Runs and connections are counted apart.
  held(await b.admitRun(client));
  await holds[1]!.release();
  held(await b.admitConnection(client));
});

test('releasing twice, or after the count vanished, never takes it below zero', async () => {
  const a = await gateway();
  const client = newClient();
  const one = held(await a.admitRun(client));
  const two = held(await a.admitRun(client));
  await one.release();
  await one.release();
  await one.release();
  assert.equal((await a.held(client)).runs, 1, 'a double release gave back a slot it did not hold');
  // The count is gone (a lease ran out, Redis restarted): the late release must not make it −1.
  const probe = connect();
  assert.equal(await probe.del(`${fleetPrefix}:limit:runs:${client}`), 1);
  await two.release();
  assert.equal(await probe.get(`${fleetPrefix}:limit:runs:${client}`), null);
  assert.equal((await a.held(client)).runs, 0);
  held(await a.admitRun(client));
  held(await a.admitRun(client));
  refusedFor(await a.admitRun(client), 'concurrent-runs');
  assert.equal(a.localHolds, 2);
});

test("a dead gateway's holds heal after the lease; a live gateway's holds are renewed past it", async () => {
  const leaseSeconds = 1;
  const dying = await gateway({ leaseSeconds });
  const live = await gateway({ leaseSeconds });
  const orphaned = newClient();
  const kept = newClient();
  held(await dying.admitRun(orphaned));
  held(await dying.admitRun(orphaned));
  held(await live.admitRun(kept));
  held(await live.admitRun(kept));
  // The gateway dies holding both of `orphaned`'s slots: no release, no more renewals.
  await dying.close();
  refusedFor(await live.admitRun(orphaned), 'concurrent-runs');
  const diedAt = Date.now();
  let healedAfter = -1;
  while (Date.now() - diedAt < 5_000) {
    const attempt = await live.admitRun(orphaned);
    if (attempt.ok) {
      healedAfter = Date.now() - diedAt;
      await attempt.hold.release();
      break;
    }
    await sleep(100);
  }
  assert.ok(healedAfter >= 0, 'the dead gateway’s holds never healed');
  assert.ok(healedAfter <= leaseSeconds * 1000 + 1_500, `healed after ${healedAfter} ms, lease ${leaseSeconds} s`);
  console.log(`# a dead gateway's holds healed ${healedAfter} ms after it died (lease ${leaseSeconds} s)`);
  // Meanwhile the live gateway renewed its own: three leases later `kept` still holds both slots.
  await sleep(Math.max(0, 3_000 - (Date.now() - diedAt)));
  assert.equal((await live.held(kept)).runs, 2);
  refusedFor(await live.admitRun(kept), 'concurrent-runs');
});

test('runs per minute: a fixed window with the time left as the retry, not spent by a concurrency refusal', async () => {
  const a = await gateway({ runsPerMinute: 3, concurrentRuns: 1 });
  const b = await gateway({ runsPerMinute: 3, concurrentRuns: 1 });
  const client = newClient();
  const first = held(await a.admitRun(client));
  // Refused for concurrency: the minute's count is untouched.
  refusedFor(await b.admitRun(client), 'concurrent-runs');
  assert.equal((await a.held(client)).runsThisMinute, 1);
  await first.release();
  await held(await b.admitRun(client)).release();
  await held(await a.admitRun(client)).release();
  const retry = refusedFor(await b.admitRun(client), 'runs-per-minute');
  assert.ok(retry > 50 && retry <= 60, `retry ${retry} s`);
  // The refused run holds nothing.
  assert.equal((await a.held(client)).runs, 0);
  held(await a.admitRun(newClient()));
});

test('with Redis gone a check is refused at once as fleet-unavailable; after a restart it works again', async () => {
  const a = await gateway();
  const client = newClient();
  held(await a.admitRun(client));
  await redis.stop();
  const asked = Date.now();
  const down = await a.admitRun(client);
  const tookMs = Date.now() - asked;
  assert.equal(down.ok, false);
  if (!down.ok) assert.equal(down.reason.code, 'fleet-unavailable');
  assert.ok(tookMs < 2_000, `refusal took ${tookMs} ms`);
  await redis.restart();
  const back = Date.now();
  let admitted = false;
  while (!admitted && Date.now() - back < 10_000) {
    admitted = (await a.admitRun(client)).ok;
    if (!admitted) await sleep(200);
  }
  assert.ok(admitted, 'limits did not work again within 10 s of Redis returning');
});

test('a full BullMQ queue refuses a run as busy with a retry time', async () => {
  const connection = connect();
  const queue = new Queue('gate-test-runs', { connection, prefix: fleetPrefix });
  try {
    await queue.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'run', data: { i }, opts: { jobId: `job-${i}` } })));
    const state = await readQueueState(queue, 2);
    assert.deepEqual(state, { waiting: 5, running: 0, capacity: 2 });
    assert.deepEqual(admitToQueue(state, { queueMax: 6 }), { ok: true });
    const refused = admitToQueue(state, { queueMax: 5, typicalRunSeconds: 4 });
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.reason.code, 'busy');
      assert.equal(refused.reason.params?.queued, 5);
      assert.equal(refused.reason.params?.retrySeconds, 2);
    }
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
});
