/**
 * The fleet's faults (issue 18), on real processes: a node killed with SIGKILL mid-run, a node
 * drained with SIGTERM, a gateway stopped with SIGTERM, and Redis restarted. In order, on one
 * fleet: each test leaves it serving for the next.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startTestFleet, Page, scriptRun, type TestFleet } from './helpers.ts';
import type { FleetChild } from '../../src/fleet/launch.ts';

let fleet: TestFleet;
let redis: Redis;
before(async () => {
  fleet = await startTestFleet({ nodes: 2, concurrency: 2 });
  redis = new Redis({ path: fleet.redis.socket, retryStrategy: () => 100 });
  redis.on('error', () => undefined);
});
after(async () => {
  redis?.disconnect();
  await fleet?.close();
});

const sleeper = (marker: string, seconds: number) => scriptRun(`import time\nprint("begin ${marker}", flush=True)\ntime.sleep(${seconds})\nprint("end ${marker}")\n`);

async function nodeIdOf(child: FleetChild): Promise<string> {
  return (await child.ready)[1]!;
}

/** The fleet run id and the node's `assigned` events of a page's run, from its stream. */
async function streamOf(runId: string): Promise<{ key: string; assigned: string[]; events: { type: string }[] }> {
  const [, found] = await redis.scan('0', 'MATCH', `asynclab:run:*.${runId}:events`, 'COUNT', 10_000);
  assert.equal(found.length, 1, `one stream for ${runId}`);
  const entries = await redis.xrange(found[0]!, '-', '+');
  const events = entries.map(([, fields]) => JSON.parse(fields[1]!) as { type: string; node?: string });
  return { key: found[0]!, assigned: events.filter((e) => e.type === 'assigned').map((e) => e.node!), events };
}

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function openPage(): Promise<Page> {
  const page = new Page(fleet.url);
  await page.opened;
  await page.waitFor((m) => m.type === 'hello');
  return page;
}

test('kill -9 of a node mid-run: its reader hears node-lost within 10 s, and the run is never run again elsewhere', { timeout: 60_000 }, async () => {
  const page = await openPage();
  page.run('doomed', sleeper('doomed', 20));
  await page.waitFor((m) => m.type === 'stdout' && m.runId === 'doomed');
  const { assigned } = await streamOf('doomed');
  const ids = await Promise.all(fleet.nodes.map(nodeIdOf));
  const index = ids.indexOf(assigned[0]!);
  assert.ok(index >= 0, `the run was taken by a node of this fleet (${assigned[0]})`);
  const killed = fleet.nodes[index]!;
  const killedAt = Date.now();
  killed.child.kill('SIGKILL');
  const exit = await page.exit('doomed', 15_000);
  const after = Date.now() - killedAt;
  assert.equal(exit.reason?.code, 'node-lost', JSON.stringify(exit));
  assert.ok(after < 10_000, `node-lost after ${after} ms`);
  console.log(`# node-lost ${after} ms after SIGKILL`);
  assert.equal(page.eventsOf('doomed').filter((e) => e.type === 'exit').length, 1);
  // Its stream never got the node's exit (which sets its expiry): the gateway set it, so it does not stay forever.
  assert.ok((await redis.ttl((await streamOf('doomed')).key)) > 0, 'the dead run\'s stream expires');
  // BullMQ finds the job stalled (its lock expired) and fails it: never moved back to wait, never taken again.
  const jobKey = (await streamOf('doomed')).key.replace(/^asynclab:run:/, '').replace(/:events$/, '');
  let state = '';
  for (let i = 0; i < 60 && state !== 'failed'; i++) {
    const [inWait, inActive, inFailed] = await Promise.all([
      redis.lpos('asynclab:runs:wait', jobKey),
      redis.lpos('asynclab:runs:active', jobKey),
      redis.zscore('asynclab:runs:failed', jobKey),
    ]);
    assert.equal(inWait, null, 'the job went back to the wait list');
    state = inFailed !== null ? 'failed' : inActive !== null ? 'active' : 'gone';
    if (state !== 'failed') await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.equal(state, 'failed', 'the dead node\'s job ends failed (stalled, not retried)');
  assert.deepEqual((await streamOf('doomed')).assigned, [assigned[0]], 'only the dead node ever took it');
  fleet.nodes.splice(index, 1);
  page.close();
});

test('SIGTERM drains a node: its running run finishes normally, it takes nothing new, and it exits 0', { timeout: 60_000 }, async () => {
  fleet.nodes.push(await fleet.addNode('node-3'));
  const page = await openPage();
  page.run('draining', sleeper('draining', 3));
  await page.waitFor((m) => m.type === 'stdout' && m.runId === 'draining');
  const node = (await streamOf('draining')).assigned[0]!;
  const ids = await Promise.all(fleet.nodes.map(nodeIdOf));
  const drained = fleet.nodes[ids.indexOf(node)]!;
  drained.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Runs sent while it drains go to the other node.
  page.run('meanwhile', sleeper('meanwhile', 0.1));
  const exit = await page.exit('draining', 30_000);
  assert.equal(exit.reason, null, JSON.stringify(exit));
  assert.equal(exit.code, 0);
  assert.equal(page.stdoutOf('draining'), 'begin draining\nend draining\n');
  const { code, signal } = await drained.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  const meanwhile = await page.exit('meanwhile', 30_000);
  assert.equal(meanwhile.reason, null, JSON.stringify(meanwhile));
  assert.notEqual((await streamOf('meanwhile')).assigned[0], node, 'the draining node took a new run');
  fleet.nodes.splice(fleet.nodes.indexOf(drained), 1);
  page.close();
});

test('SIGTERM on the gateway: its connections close with 4000 (reconnect), it exits 0, and a new gateway serves the page again', { timeout: 60_000 }, async () => {
  fleet.nodes.push(await fleet.addNode('node-4'));
  const page = await openPage();
  const closed = new Promise<number>((resolve) => page.ws.once('close', (code) => resolve(code)));
  const gateway = fleet.gateway;
  gateway.child.kill('SIGTERM');
  assert.equal(await closed, 4000);
  assert.deepEqual(await gateway.exited, { code: 0, signal: null });
  await fleet.restartGateway();
  const again = await openPage();
  again.run('after-restart', sleeper('after-restart', 0.1));
  const exit = await again.exit('after-restart', 30_000);
  assert.equal(exit.reason, null, JSON.stringify(exit));
  assert.equal(again.stdoutOf('after-restart'), 'begin after-restart\nend after-restart\n');
  again.close();
});

test('Redis stopped and started again: the run in flight ends with a clear reason, runs meanwhile are refused, and runs work again within seconds', { timeout: 90_000 }, async () => {
  const page = await openPage();
  page.run('in-flight', sleeper('in-flight', 20));
  await page.waitFor((m) => m.type === 'stdout' && m.runId === 'in-flight');
  await fleet.redis.stop();
  const exit = await page.exit('in-flight', 15_000);
  assert.equal(exit.reason?.code, 'fleet-unavailable', JSON.stringify(exit));
  assert.equal(page.eventsOf('in-flight').filter((e) => e.type === 'exit').length, 1);
  // While it is away: not ready, and a run is refused at once rather than left waiting.
  const notReady = await fetch(`${fleet.httpBase}/readyz`);
  assert.equal(notReady.status, 503);
  assert.deepEqual(await notReady.json(), { ready: false, reason: 'Redis is unreachable' });
  page.run('while-away', sleeper('while-away', 0.1));
  assert.equal((await page.exit('while-away', 5_000)).reason?.code, 'fleet-unavailable');
  const restartedAt = Date.now();
  await fleet.redis.restart();
  // The node that held it stopped it (it could no longer report it), rather than let it run on unseen.
  await waitUntil(() => fleet.nodes.some((n) => n.lastLines.some((l) => /lost Redis; stopping its 1 run/.test(l))), 10_000, 'a node said it stopped its run');
  // The same page (its connection to the gateway never dropped) runs again once gateway and nodes are back.
  let attempt = 0;
  let ok = false;
  while (!ok && Date.now() - restartedAt < 30_000) {
    const runId = `retry-${attempt++}`;
    page.run(runId, sleeper(runId, 0.1));
    const result = await page.exit(runId, 20_000);
    ok = result.reason === null && page.stdoutOf(runId) === `begin ${runId}\nend ${runId}\n`;
    if (!ok) {
      assert.equal(result.reason?.code, 'fleet-unavailable', `while the fleet reconnects a run is refused as fleet-unavailable: ${JSON.stringify(result)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const recovered = Date.now() - restartedAt;
  assert.ok(ok, 'a run succeeded after the restart');
  assert.ok(recovered < 15_000, `runs worked again ${recovered} ms after the restart`);
  console.log(`# runs work again ${recovered} ms after the Redis restart (${attempt} attempt(s))`);
  page.close();
});

test('with every node gone, runs already waiting end fleet-unavailable after a grace period, new ones at once, and /readyz says why', { timeout: 60_000 }, async () => {
  const page = await openPage();
  // Killed: their heartbeats linger up to 5 s, so the gateway still queues this run, which no node will take.
  await Promise.all(fleet.nodes.map((n) => n.stop('SIGKILL')));
  page.run('stranded', sleeper('stranded', 0.1));
  await page.waitFor((m) => m.type === 'queued' && m.runId === 'stranded', 10_000);
  const exit = await page.exit('stranded', 30_000);
  assert.equal(exit.reason?.code, 'fleet-unavailable', JSON.stringify(exit));
  assert.equal(await redis.llen('asynclab:runs:wait'), 0, 'the stranded job was taken off the queue');
  const ready = await fetch(`${fleet.httpBase}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { ready: false, reason: 'no runner node is alive' });
  page.run('refused', sleeper('refused', 0.1));
  const refused = await page.exit('refused', 5_000);
  assert.equal(refused.reason?.code, 'fleet-unavailable');
  assert.equal(refused.reason?.params?.detail, 'no runner node is running');
  page.close();
});
