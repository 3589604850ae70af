/**
 * The public gate of a live fleet: the fleet's Redis, one runner node and one gateway, each a real
 * process started as an operator would (launch.ts). 127.0.0.1 plays the operator's load balancer
 * (ASYNCLAB_TRUSTED_PROXIES), so readers are told apart by the X-Forwarded-For it sets; 127.0.0.2
 * plays a stranger who connects directly. Each refusal comes with its reason while everyone else
 * is still served; a greedy client cannot push the polite ones' queue waits past a stated bound;
 * /metrics is Prometheus text; every run leaves one log line with nothing of its source.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startFleetChild, type FleetChild } from '../../src/fleet/launch.ts';
import { startFleetRedis, type FleetRedis } from '../../src/fleet/redis-server.ts';
import type { ServerMessage } from '../../src/protocol/messages.ts';
import { describeReason, type Reason } from '../../src/protocol/reasons.ts';
import { parsePrometheusText } from '../support/prometheus-text.ts';

const site = 'http://site.test';
const nodeCapacity = 3;
const secretMarker = `GATE-SECRET-${randomBytes(4).toString('hex')}`;

let redis: FleetRedis;
let node: FleetChild;
let gateway: FleetChild;
let port: number;
const gatewayLines: string[] = [];
const nodeLines: string[] = [];
const pages: Page[] = [];

before(async () => {
  redis = await startFleetRedis();
  const env = { ...process.env, REDIS_URL: redis.url, ASYNCLAB_FLEET_SECRET: randomBytes(32).toString('base64url') };
  node = startFleetChild('node', { ...env, RUNNER_CONCURRENCY: String(nodeCapacity), ASYNCLAB_NODE_ID: 'gate-node' }, { onLine: (_label, line) => nodeLines.push(line) });
  gateway = startFleetChild(
    'gateway',
    {
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      ASYNCLAB_PUBLIC_ORIGINS: site,
      ASYNCLAB_TRUSTED_PROXIES: '127.0.0.1',
      // The fairness below comes from the per-client cap on concurrent runs, not the minute's allowance.
      ASYNCLAB_RUNS_PER_MINUTE: '1000',
    },
    { onLine: (_label, line) => gatewayLines.push(line) },
  );
  await node.ready;
  const ready = await gateway.ready;
  port = Number(ready[2]);
  // The gateway is ready for runs once it has seen the node's heartbeat.
  const deadline = Date.now() + 15_000;
  while ((await fetch(`http://127.0.0.1:${port}/readyz`)).status !== 200) {
    assert.ok(Date.now() < deadline, 'the gateway never saw the node');
    await sleep(200);
  }
});

after(async () => {
  for (const page of pages) page.ws.terminate();
  await Promise.allSettled([gateway?.stop('SIGTERM', 10_000), node?.stop('SIGTERM', 30_000)]);
  await redis?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Page {
  ws: WebSocket;
  messages: ServerMessage[];
  closed: Promise<{ code: number }>;
  /** Resolves with the first message (already received or to come) that matches. */
  next(match: (m: ServerMessage) => boolean, ms?: number): Promise<ServerMessage>;
  run(runId: string, source: string): void;
}

type Opened = { ok: true; page: Page } | { ok: false; status: number; retryAfter: string | undefined; reason: Reason | undefined };

/** Opens the runner WebSocket as a page of `origin`, through the "load balancer" (xff) or directly from `from`. */
function openPage({ origin = site, xff, from }: { origin?: string; xff?: string; from?: string } = {}): Promise<Opened> {
  const headers: Record<string, string> = { Origin: origin };
  if (xff !== undefined) headers['X-Forwarded-For'] = xff;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/__runner`, { headers, ...(from ? { localAddress: from } : {}) });
  const messages: ServerMessage[] = [];
  const waiters: { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as ServerMessage;
    messages.push(message);
    for (const w of [...waiters]) {
      if (w.match(message)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message);
      }
    }
  });
  const closed = new Promise<{ code: number }>((resolve) => ws.once('close', (code) => resolve({ code })));
  const page: Page = {
    ws,
    messages,
    closed,
    next(match, ms = 30_000) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(messages.slice(-5))}`)), ms);
        waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
    run(runId, source) {
      ws.send(JSON.stringify({ type: 'run', runId, manifest: script, files: { 'main.py': source } }));
    },
  };
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      const retryAfter = res.headers['retry-after'];
      resolve({ ok: false, status: res.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, reason: undefined });
      ws.terminate();
    });
    ws.once('error', () => undefined);
    ws.once('open', () => {
      pages.push(page);
      // A connection refused by a per-client limit is accepted only to carry its reason, then closed.
      void Promise.race([page.next((m) => m.type === 'hello' || m.type === 'error', 10_000), closed]).then((first) => {
        if ('type' in first && first.type === 'hello') resolve({ ok: true, page });
        else resolve({ ok: false, status: 101, retryAfter: undefined, reason: 'type' in first && first.type === 'error' ? first.reason : undefined });
      });
    });
  });
}

const script = { id: 'gate-probe', title: { en: 'probe', zh: '探针' }, language: 'python', kind: 'script', entry: 'main.py' };
const sleeper = (tag: string, seconds = 0.3) => `import time\ntime.sleep(${seconds})\nprint("done ${tag}")  # ${secretMarker}\n`;

async function opened(options: Parameters<typeof openPage>[0]): Promise<Page> {
  const result = await openPage(options);
  assert.ok(result.ok, `refused: ${JSON.stringify(result)}`);
  return result.page;
}

function refusedForLimit(result: Opened, limit: string): void {
  assert.equal(result.ok, false, `expected a ${limit} refusal`);
  if (result.ok) return;
  assert.ok(result.reason, `no reason with the refusal (HTTP ${result.status})`);
  assert.equal(result.reason.code, 'rate-limit');
  assert.equal(result.reason.params?.limit, limit);
  assert.ok(Number(result.reason.params?.retrySeconds) >= 1);
}

/** Runs one sandbox on a page and waits for its exit; returns its events. */
async function runToExit(page: Page, runId: string, source: string): Promise<ServerMessage[]> {
  page.run(runId, source);
  await page.next((m) => m.type === 'exit' && m.runId === runId, 60_000);
  return page.messages.filter((m) => 'runId' in m && m.runId === runId);
}

test('a page from a foreign origin is refused (403) before any work; the site is still served', async () => {
  for (const origin of ['https://evil.example', 'null', `${site}/`]) {
    const refused = await openPage({ origin, xff: '198.51.100.200' });
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.equal(refused.status, 403, origin);
  }
  const page = await opened({ xff: '198.51.100.200' });
  const events = await runToExit(page, 'origin-ok', sleeper('origin-ok', 0));
  assert.ok(events.some((m) => m.type === 'stdout' && m.data.includes('done origin-ok')));
  page.ws.close();
});

test('a fifth connection of one client is refused with its reason; other clients connect; closing one frees a slot', async () => {
  const mine = await Promise.all([1, 2, 3, 4].map(() => opened({ xff: '198.51.100.1' })));
  const fifth = await openPage({ xff: '198.51.100.1' });
  refusedForLimit(fifth, 'connections');
  if (!fifth.ok && fifth.reason) assert.match(describeReason(fifth.reason, 'zh'), /打开的连接数已达上限/);
  const other = await opened({ xff: '198.51.100.2' });
  mine[0]!.ws.close();
  await mine[0]!.closed;
  let again: Opened | undefined;
  for (let i = 0; i < 20 && !again?.ok; i += 1) {
    again = await openPage({ xff: '198.51.100.1' });
    if (!again.ok) await sleep(100);
  }
  assert.ok(again?.ok, 'the closed connection’s slot was never given back');
  for (const page of [...mine.slice(1), other]) page.ws.close();
  if (again?.ok) again.page.ws.close();
});

test('a spoofed X-Forwarded-For from an untrusted peer is ignored: the peer is the client', async () => {
  // Five different "clients" by header, one by address: the fifth is refused as that one client's.
  const spoofed = await Promise.all(['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4'].map((xff) => opened({ xff, from: '127.0.0.2' })));
  refusedForLimit(await openPage({ xff: '203.0.113.5', from: '127.0.0.2' }), 'connections');
  // Meanwhile the addresses it pretended to be are free (they were never charged).
  const real = await opened({ xff: '203.0.113.5' });
  for (const page of [...spoofed, real]) page.ws.close();
});

test('a third concurrent run of one client is refused with its reason and retry time; its other runs and other clients go on', async () => {
  const page = await opened({ xff: '198.51.100.3' });
  const neighbour = await opened({ xff: '198.51.100.4' });
  page.run('a', sleeper('a', 1));
  page.run('b', sleeper('b', 1));
  page.run('c', sleeper('c', 1));
  const refused = await page.next((m) => m.type === 'exit' && m.runId === 'c');
  assert.equal(refused.type === 'exit' && refused.reason?.code, 'rate-limit');
  if (refused.type === 'exit' && refused.reason) {
    assert.equal(refused.reason.params?.limit, 'concurrent-runs');
    assert.match(describeReason(refused.reason, 'en'), /try again in \d+ s/);
    assert.match(describeReason(refused.reason, 'zh'), /同时进行的运行已达上限/);
  }
  const neighbourEvents = await runToExit(neighbour, 'n', sleeper('n', 0));
  assert.ok(neighbourEvents.some((m) => m.type === 'stdout' && m.data.includes('done n')));
  for (const id of ['a', 'b']) {
    const exit = await page.next((m) => m.type === 'exit' && m.runId === id);
    assert.equal(exit.type === 'exit' && exit.reason, null);
    assert.ok(page.messages.some((m) => m.type === 'stdout' && m.runId === id && m.data.includes(`done ${id}`)));
  }
  // With both done, the client may run again.
  const last = (await runToExit(page, 'd', sleeper('d', 0))).at(-1);
  assert.ok(last?.type === 'exit' && last.reason === null, JSON.stringify(last));
  page.ws.close();
  neighbour.ws.close();
});

test('an oversized message closes only its own connection (1009); the gateway serves others', async () => {
  const page = await opened({ xff: '198.51.100.5' });
  page.ws.send(JSON.stringify({ type: 'run', runId: 'big', manifest: script, files: { 'main.py': `# ${'x'.repeat(200 * 1024)}` } }));
  const { code } = await page.closed;
  assert.equal(code, 1009);
  const other = await opened({ xff: '198.51.100.5' });
  const events = await runToExit(other, 'after-big', sleeper('after-big', 0));
  assert.ok(events.some((m) => m.type === 'stdout' && m.data.includes('done after-big')));
  other.ws.close();
});

test('a greedy client beside 10 polite ones: each polite run waits at most ceil((2 + 9) / capacity) run lengths', async () => {
  const runSeconds = 0.5;
  const greedy = await opened({ xff: '192.0.2.100' });
  const polite = await Promise.all(Array.from({ length: 10 }, (_, i) => opened({ xff: `192.0.2.${i + 1}` })));
  const sentAt = new Map<string, number>();
  const waits: number[] = [];
  const runLengths: number[] = [];
  let greedyRefusals = 0;
  let greedyRunning = 0;
  let greedyPeak = 0;
  let stop = false;
  // The greedy client sends a new run the moment one of its runs ends, and 50 times a second while it is
  // refused (a tighter loop would only measure this shared 2-core machine), for as long as the polite ones run.
  greedy.ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as ServerMessage;
    if (m.type === 'started') greedyPeak = Math.max(greedyPeak, (greedyRunning += 1));
    if (m.type === 'exit') {
      if (m.reason?.code === 'rate-limit') greedyRefusals += 1;
      else greedyRunning -= 1;
      if (!stop) setTimeout(send, m.reason?.code === 'rate-limit' ? 20 : 0);
    }
  });
  let greedySeq = 0;
  const send = () => greedy.run(`g${(greedySeq += 1)}`, sleeper('g', runSeconds));
  for (let i = 0; i < 4; i += 1) send();
  await sleep(300);
  const started = Date.now();
  await Promise.all(
    polite.map(async (page, i) => {
      for (let r = 0; r < 2; r += 1) {
        const runId = `p${i}-${r}`;
        sentAt.set(runId, Date.now());
        page.run(runId, sleeper(runId, runSeconds));
        const first = await page.next((m) => (m.type === 'started' || m.type === 'exit') && m.runId === runId, 60_000);
        assert.equal(first.type, 'started', `${runId}: ${JSON.stringify(first)}`);
        waits.push(Date.now() - sentAt.get(runId)!);
        const startedAt = Date.now();
        const exit = await page.next((m) => m.type === 'exit' && m.runId === runId, 60_000);
        assert.equal(exit.type === 'exit' && exit.reason, null, `${runId} ended abnormally`);
        runLengths.push(Date.now() - startedAt);
      }
    }),
  );
  stop = true;
  const elapsed = Date.now() - started;
  const longestRun = Math.max(...runLengths);
  // At most 2 of the greedy client's jobs and 1 of each other polite client's are ahead of a polite run.
  const bound = Math.ceil((2 + 9) / nodeCapacity) * longestRun + 2_000;
  const sorted = [...waits].sort((a, b) => a - b);
  console.log(`# polite queue waits: p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms; bound ${bound} ms (longest run ${longestRun} ms, capacity ${nodeCapacity}); greedy refused ${greedyRefusals}×, at most ${greedyPeak} running; ${elapsed} ms in all`);
  assert.equal(waits.length, 20);
  assert.ok(sorted.at(-1)! <= bound, `a polite run waited ${sorted.at(-1)} ms (bound ${bound} ms)`);
  assert.ok(greedyRefusals > 0, 'the greedy client was never refused');
  assert.ok(greedyPeak <= 2, `the greedy client had ${greedyPeak} runs going at once`);
  // Let its last runs drain before the next test counts.
  await sleep(runSeconds * 1000 * 3);
  for (const page of [greedy, ...polite]) page.ws.close();
});

test('/metrics is Prometheus text with the fleet series; each run left one log line without its source', async () => {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const samples = parsePrometheusText(await response.text());
  const sum = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);
  assert.ok(sum('asynclab_refusals_total', { kind: 'connections' }) >= 2);
  assert.ok(sum('asynclab_refusals_total', { kind: 'concurrent-runs' }) >= 1);
  assert.ok(sum('asynclab_refusals_total', { kind: 'origin' }) >= 3);
  assert.equal(sum('asynclab_refusals_total', { kind: 'message-size' }), 1);
  assert.ok(sum('asynclab_runs_started_total') >= 25);
  assert.ok(sum('asynclab_runs_finished_total', { reason: 'normal' }) >= 25);
  assert.ok(sum('asynclab_queue_wait_seconds_count') >= 25);
  assert.equal(sum('asynclab_nodes_alive'), 1);
  assert.ok(samples.some((s) => s.name === 'asynclab_queue_length'));
  assert.ok(samples.some((s) => s.name === 'asynclab_node_active_runs' && s.labels.node === 'gate-node'));
  assert.ok(samples.some((s) => s.name === 'asynclab_gateway_open_connections'));

  const runLines = (lines: string[]) => lines.filter((line) => line.startsWith('{') && line.includes('"log":"run"')).map((line) => JSON.parse(line) as Record<string, unknown>);
  const fromGateway = runLines(gatewayLines);
  const fromNode = runLines(nodeLines);
  assert.ok(fromGateway.length >= 25, `${fromGateway.length} run log lines from the gateway`);
  assert.ok(fromNode.length >= 25, `${fromNode.length} run log lines from the node`);
  for (const line of [...fromGateway, ...fromNode]) {
    assert.ok(typeof line.run === 'string' && line.sandbox === 'gate-probe' && typeof line.client === 'string' && 'queueWaitMs' in line && 'durationMs' in line && 'exit' in line, JSON.stringify(line));
  }
  assert.ok(fromGateway.some((l) => l.node === 'gate-node' && l.exit === 'normal' && Number(l.queueWaitMs) >= 0));
  assert.ok(fromNode.every((l) => l.from === 'node' && l.node === 'gate-node'));
  // Both sides name a run the same way: every run the node logged, the gateway logged too.
  const gatewayRuns = new Set(fromGateway.map((l) => l.run));
  assert.ok(fromNode.every((l) => gatewayRuns.has(l.run)));
  // No line of either process's output carries a run's source or a reader's address.
  for (const line of [...gatewayLines, ...nodeLines]) {
    assert.ok(!line.includes(secretMarker), line);
    assert.ok(!/198\.51\.100\.|192\.0\.2\.|203\.0\.113\./.test(line), line);
  }
});

test('with Redis away a page still connects (its runs end fleet-unavailable at once), and runs again once Redis is back', async () => {
  await redis.stop();
  const page = await opened({ xff: '198.51.100.9' });
  page.run('while-down', sleeper('while-down', 0));
  const refused = await page.next((m) => m.type === 'exit' && m.runId === 'while-down', 10_000);
  assert.equal(refused.type === 'exit' && refused.reason?.code, 'fleet-unavailable');
  await redis.restart();
  const back = Date.now();
  let ok = false;
  for (let attempt = 0; !ok && Date.now() - back < 20_000; attempt += 1) {
    const events = await runToExit(page, `after-${attempt}`, sleeper(`after-${attempt}`, 0));
    ok = events.some((m) => m.type === 'stdout' && m.data.includes(`done after-${attempt}`));
    if (!ok) await sleep(250);
  }
  assert.ok(ok, 'runs did not work again within 20 s of Redis returning');
  console.log(`# runs through the gate work again ${Date.now() - back} ms after Redis returned`);
  page.ws.close();
});
