/**
 * Many readers through one gateway over three nodes (issue 18): 60 page connections, each running
 * 3 runs of its own, all at once. Every run ends with its own output and exactly one exit, no
 * output reaches another connection, and the runs are spread across all the nodes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFleet, Page, scriptRun, type TestFleet } from './helpers.ts';

const readers = 60;
const runsEach = 3;

let fleet: TestFleet;
before(async () => {
  fleet = await startTestFleet({ nodes: 3, concurrency: 3 });
});
after(() => fleet?.close());

/** Prints a marker naming the reader and the run, before and after a short sleep. */
const source = (marker: string) => `import time\nprint("begin ${marker}", flush=True)\ntime.sleep(0.1)\nprint("end ${marker}")\n`;

test(`${readers} readers × ${runsEach} runs through one gateway over 3 nodes: own output, one exit each, spread over every node`, { timeout: 170_000 }, async () => {
  const started = Date.now();
  const pages = Array.from({ length: readers }, () => new Page(fleet.url));
  await Promise.all(pages.map((p) => p.opened));
  const runIds = (_reader: number) => Array.from({ length: runsEach }, (_, i) => `run-${i}`);
  // Each reader's runs, started together: the gateway queues them, the nodes share them out.
  pages.forEach((page, r) => runIds(r).forEach((runId) => page.run(runId, scriptRun(source(`r${r}-${runId}`)))));
  await Promise.all(pages.flatMap((page, r) => runIds(r).map((runId) => page.exit(runId, 160_000))));
  const elapsed = Date.now() - started;

  pages.forEach((page, r) => {
    for (const runId of runIds(r)) {
      const events = page.eventsOf(runId);
      const exits = events.filter((e) => e.type === 'exit');
      assert.equal(exits.length, 1, `reader ${r} ${runId}: exactly one exit`);
      assert.equal(events.at(-1)!.type, 'exit', `reader ${r} ${runId}: the exit is the last event`);
      assert.deepEqual(exits[0], { type: 'exit', runId, code: 0, signal: null, durationMs: (exits[0] as { durationMs: number }).durationMs, reason: null });
      assert.equal(page.stdoutOf(runId), `begin r${r}-${runId}\nend r${r}-${runId}\n`, `reader ${r} ${runId}: its own output, whole and in order`);
    }
    // Nothing of any other reader's runs on this connection.
    const foreign = page.messages.filter((m) => 'runId' in m && !runIds(r).includes(m.runId));
    assert.deepEqual(foreign, [], `reader ${r} got messages of runs it did not start`);
    const stdout = page.messages.flatMap((m) => (m.type === 'stdout' ? [m.data] : [])).join('');
    assert.doesNotMatch(stdout.replace(new RegExp(`r${r}-run-\\d`, 'g'), ''), /r\d+-run-\d/, `reader ${r} saw another reader's output`);
  });
  // 180 runs for 9 places: most waited, and were told where they stood, before anything else of theirs.
  const queued = pages.flatMap((page) => page.messages.filter((m) => m.type === 'queued'));
  assert.ok(queued.length >= readers, `queue positions were sent (${queued.length})`);
  for (const page of pages) {
    for (const runId of ['run-0', 'run-1', 'run-2']) {
      const types = page.eventsOf(runId).map((e) => e.type);
      const lastQueued = types.lastIndexOf('queued');
      assert.ok(lastQueued < types.indexOf('started'), `${runId}: queued only before started: ${types.join(',')}`);
    }
  }
  for (const page of pages) page.close();

  // Which node ran what: every node's log names the runs it took (the gateway's stream says so too).
  const perNode = await runsPerNode(fleet);
  const total = [...perNode.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, readers * runsEach, `every run was taken by exactly one node: ${JSON.stringify([...perNode])}`);
  assert.equal(perNode.size, 3, `runs on every node: ${JSON.stringify([...perNode])}`);
  for (const [node, count] of perNode) assert.ok(count >= 10, `node ${node} took only ${count} runs`);
  console.log(`# ${readers * runsEach} runs in ${(elapsed / 1000).toFixed(1)} s; per node: ${JSON.stringify(Object.fromEntries(perNode))}`);
});

/** How many runs each node took, from the `assigned` events left in the runs' streams. */
async function runsPerNode(f: TestFleet): Promise<Map<string, number>> {
  const { Redis } = await import('ioredis');
  const redis = new Redis({ path: f.redis.socket });
  try {
    const counts = new Map<string, number>();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', 'asynclab:run:*:events', 'COUNT', 500);
      cursor = next;
      for (const key of found) {
        const first = await redis.xrange(key, '-', '+', 'COUNT', 1);
        const event = JSON.parse(first[0]![1][1]!) as { type: string; node?: string };
        if (event.type === 'assigned') counts.set(event.node!, (counts.get(event.node!) ?? 0) + 1);
      }
    } while (cursor !== '0');
    return counts;
  } finally {
    redis.disconnect();
  }
}
