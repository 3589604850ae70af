/**
 * The course's claims hold through the fleet as they do embedded (issue 18): real sandboxes from
 * sandboxes/, sent by a page over the gateway's WebSocket to two nodes, each trace checked against
 * its manifest's `expect` with the checker the runner's claims test uses (src/timeline/expect.ts,
 * as src/tools/record.ts applies it). The set covers each kind of work a node must host unchanged:
 * a FastAPI server, threads, processes, a PostgreSQL and a Redis service, and a server whose live
 * preview is then reached through the gateway's preview proxy.
 *
 * Takes about 11 s with the fleet's start (10 s of runs) on this loaded 2-core machine.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadSandbox, type Sandbox } from '../../src/sandbox/load-sandbox.ts';
import { checkExpect, explainFailures } from '../../src/timeline/expect.ts';
import { buildModel } from '../../src/timeline/model.ts';
import type { ServerMessage } from '../../src/protocol/messages.ts';
import { startTestFleet, Page, siteOrigin, type TestFleet } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const sandboxesDir = path.join(root, 'sandboxes');

/** Chosen by manifest: what each one needs is why it is here. */
const claims: Record<string, string> = {
  'pitfalls-forgot-await': 'a FastAPI server with its load',
  'offloading-to-thread': 'threads (asyncio.to_thread)',
  'offloading-cpu-processes': 'processes (a process pool, in parallel)',
  'async-databases-postgres': 'a PostgreSQL service',
  'after-the-response-redis-queue': 'a Redis service',
  'context-and-threads-request-id': 'a server with threads and a live preview',
};
const previewed = 'context-and-threads-request-id';

let fleet: TestFleet;
let page: Page;
before(async () => {
  // Two nodes of two runs each: the same two-at-a-time per pool as `npm run record`.
  fleet = await startTestFleet({ nodes: 2, concurrency: 2 });
  page = new Page(fleet.url);
  await page.opened;
});
after(async () => {
  page?.close();
  await fleet?.close();
});

/** What runAndCheck (src/tools/record.ts) decides for an embedded run, decided on the events the gateway forwarded. */
function claimFailures(sandbox: Sandbox, events: ServerMessage[]): string {
  const exit = events.find((e) => e.type === 'exit');
  if (!exit || exit.type !== 'exit') return 'no exit';
  const trace = events.flatMap((e) => (e.type === 'trace' ? e.data.split('\n') : []));
  const stdout = events.flatMap((e) => (e.type === 'stdout' ? [e.data] : [])).join('');
  const reason = exit.reason ? `the run ended abnormally: ${exit.reason.message}` : '';
  return [reason, explainFailures(checkExpect(sandbox.manifest.expect ?? {}, buildModel(trace), { exitCode: exit.code, stdout }))].filter(Boolean).join('; ');
}

test('representative sandboxes run through the gateway hold their claims, and one live preview answers through the proxy', { timeout: 120_000 }, async () => {
  const started = performance.now();
  const ids = Object.keys(claims);
  const sandboxes = new Map(await Promise.all(ids.map(async (id) => [id, await loadSandbox(sandboxesDir, id, root)] as const)));

  // The preview first: it keeps serving until stopped.
  const preview = sandboxes.get(previewed)!;
  assert.ok(preview.manifest.preview, `${previewed} offers a live preview`);
  page.run('preview', { manifest: preview.manifest, files: preview.files, preview: true });
  const ready = (await page.waitFor((m) => m.type === 'ready' && m.runId === 'preview', 60_000)) as Extract<ServerMessage, { type: 'ready' }>;
  assert.ok(ready.preview, 'the ready message of a preview run names its preview');
  const request = preview.manifest.preview?.requests?.[0] ?? '/';
  const answer = await fetch(`${fleet.httpBase}${ready.preview.path}${request.replace(/^\//, '')}`, { headers: { Origin: siteOrigin } });
  assert.equal(answer.status, 200, `GET ${request} through the gateway's preview proxy`);
  assert.equal(answer.headers.get('access-control-allow-origin'), siteOrigin);
  await answer.arrayBuffer();
  page.stop('preview');
  assert.equal((await page.exit('preview', 15_000)).reason?.code, 'stopped');

  // Then the claims, two at a time as the embedded claims test runs them: timings stay honest on
  // a 2-core machine (the nodes would take four at once).
  const failures: string[] = [];
  const pending = [...ids];
  const lane = async () => {
    for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
      page.run(id, { manifest: sandboxes.get(id)!.manifest, files: sandboxes.get(id)!.files });
      await page.exit(id, 90_000);
      const events = page.eventsOf(id) as ServerMessage[];
      assert.equal(events.filter((e) => e.type === 'exit').length, 1, `${id}: exactly one exit`);
      const failed = claimFailures(sandboxes.get(id)!, events);
      if (failed) failures.push(`${id} (${claims[id]}): ${failed}`);
    }
  };
  await Promise.all([lane(), lane()]);
  console.log(`# ${ids.length} claims and one preview through the fleet in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assert.deepEqual(failures, []);
});
