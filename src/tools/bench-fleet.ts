/**
 * The hosted fleet for `npm run bench` (issue 18), on this machine: a private Redis, one gateway
 * and up to three nodes as real processes (src/fleet/launch.ts), reached as a page reaches them,
 * over the gateway's WebSocket with an allowed Origin.
 *   - latency: run → first output and run → ready of a FastAPI server, the fleet beside the
 *     embedded runner (in this process), interleaved run by run, medians and their ratio
 *   - throughput: sleep-bound runs per second with 1, 2 and 3 nodes, and 3 nodes / 1 node
 *   - queueWait: 60 readers clicking Run at the same moment, run → started p50/p95
 *   - gatewayMemory: a fresh gateway's RSS grown by 500 idle page connections, per connection
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import WebSocket from 'ws';
import { startFleetChild, type FleetChild } from '../fleet/launch.ts';
import { startFleetRedis, type FleetRedis } from '../fleet/redis-server.ts';
import { Runner } from '../runner/runner.ts';
import type { RunEvent, ServerMessage } from '../protocol/messages.ts';
import type { SandboxFiles, SandboxManifestInput } from '../protocol/manifest.ts';
import { fastapiServer, stat } from './bench-runner.ts';

const origin = 'http://site.bench.test';
type Request = { manifest: SandboxManifestInput; files: SandboxFiles };

/** The fleet on this machine; nodes are added one by one so one Redis and gateway serve every measurement. */
class BenchFleet {
  readonly nodes: FleetChild[] = [];
  url = '';
  private gateway: FleetChild | undefined;
  private readonly extraGateways: FleetChild[] = [];
  private readonly redis: FleetRedis;
  private readonly env: NodeJS.ProcessEnv;
  private constructor(redis: FleetRedis, env: NodeJS.ProcessEnv) {
    this.redis = redis;
    this.env = env;
  }

  static async start(concurrency: number): Promise<BenchFleet> {
    const redis = await startFleetRedis();
    const fleet = new BenchFleet(redis, {
      ...process.env,
      REDIS_URL: redis.url,
      ASYNCLAB_FLEET_SECRET: randomBytes(32).toString('base64url'),
      ASYNCLAB_PUBLIC_ORIGINS: origin,
      RUNNER_CONCURRENCY: String(concurrency),
      PORT: '0',
      HOST: '127.0.0.1',
      // Every bench reader connects from 127.0.0.1, one client to the gate: its per-client limits
      // would measure the gate, not the fleet, so they are lifted (the queue bound stays).
      ASYNCLAB_RUNS_PER_CLIENT: '10000',
      ASYNCLAB_CONNECTIONS_PER_CLIENT: '10000',
      ASYNCLAB_RUNS_PER_MINUTE: '10000',
    });
    try {
      await fleet.addNode();
      fleet.gateway = startFleetChild('gateway', fleet.env, { label: 'gateway' });
      const m = await fleet.gateway.ready;
      fleet.url = `ws://127.0.0.1:${m[2]}/__runner`;
    } catch (err) {
      await fleet.close();
      throw err;
    }
    return fleet;
  }

  async addNode(): Promise<void> {
    const node = startFleetChild('node', this.env, { label: `node-${this.nodes.length + 1}` });
    this.nodes.push(node);
    await node.ready;
  }

  /** One more gateway, fresh (the memory measurement's own, so no earlier load has grown its heap). */
  async addGateway(): Promise<{ url: string; rssBytes: () => number }> {
    const gateway = startFleetChild('gateway', this.env, { label: 'gateway-2' });
    this.extraGateways.push(gateway);
    const m = await gateway.ready;
    return {
      url: `ws://127.0.0.1:${m[2]}/__runner`,
      rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8'))![1]) * 1024,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes, ...this.extraGateways, ...(this.gateway ? [this.gateway] : [])].map((c) => c.stop('SIGTERM', 10_000)));
    await this.redis.close();
  }
}

/** A page's connection: sends runs and hands each run's events to its listener. */
class Client {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  private readonly listeners = new Map<string, (event: ServerMessage) => void>();
  private next = 0;

  constructor(url: string) {
    this.ws = new WebSocket(url, { headers: { Origin: origin } });
    this.ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      if ('runId' in message) this.listeners.get(message.runId)?.(message);
    });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`gateway refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  run(request: Request, emit: (event: RunEvent) => void): void {
    const runId = `b${this.next++}`;
    this.listeners.set(runId, (event) => {
      if (event.type === 'exit') this.listeners.delete(runId);
      emit(event as RunEvent);
    });
    this.ws.send(JSON.stringify({ type: 'run', runId, ...request }));
  }

  close(): void {
    this.ws.close();
  }
}

type Host = (request: Request, emit: (event: RunEvent) => void) => void;

/** Milliseconds from submitting the run to the first event matching each probe, and the run's own duration (`runMs`, as the node timed it); rejects unless it exits 0. */
function timeRun(host: Host, request: Request, probes: Record<string, (e: RunEvent) => boolean>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const times: Record<string, number> = {};
    host(request, (event) => {
      for (const [name, probe] of Object.entries(probes)) if (!(name in times) && probe(event)) times[name] = performance.now() - started;
      if (event.type === 'exit') {
        if (event.code !== 0 || event.reason) reject(new Error(`bench run failed: ${JSON.stringify(event)}`));
        else resolve({ ...times, runMs: event.durationMs });
      }
    });
  });
}

const firstOutput = (e: RunEvent) => e.type === 'stdout' || e.type === 'stderr';
const ready = (e: RunEvent) => e.type === 'ready';
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/** The FastAPI server, embedded and through the fleet, one after the other for each repetition. */
async function benchLatency(fleet: BenchFleet, times: number) {
  const runner = await Runner.start();
  const client = new Client(fleet.url);
  await client.opened;
  const embedded: Host = (request, emit) => runner.run(request, emit);
  const remote: Host = (request, emit) => client.run(request, emit);
  const samples = { embedded: { firstOutput: [] as number[], ready: [] as number[] }, fleet: { firstOutput: [] as number[], ready: [] as number[] } };
  try {
    // One run each first, not counted: the node's and this process's first run pay for cold caches.
    await timeRun(embedded, fastapiServer, {});
    await timeRun(remote, fastapiServer, {});
    for (let i = 0; i < times; i++) {
      // Alternate which goes first, so a slow moment of the machine falls on both sides alike.
      const order: Array<['embedded' | 'fleet', Host]> = i % 2 ? [['fleet', remote], ['embedded', embedded]] : [['embedded', embedded], ['fleet', remote]];
      for (const [side, host] of order) {
        const t = await timeRun(host, fastapiServer, { firstOutput, ready });
        samples[side].firstOutput.push(t.firstOutput!);
        samples[side].ready.push(t.ready!);
      }
    }
  } finally {
    client.close();
    await runner.close();
  }
  const e = { firstOutput: stat(samples.embedded.firstOutput), ready: stat(samples.embedded.ready) };
  const f = { firstOutput: stat(samples.fleet.firstOutput), ready: stat(samples.fleet.ready) };
  return {
    sandbox: 'FastAPI app, 5 requests of load (bench-runner.ts); fleet: 1 node, 1 gateway, Redis on a Unix socket',
    embedded: e,
    fleet: f,
    ratioFirstOutput: ratio(f.firstOutput.medianMs, e.firstOutput.medianMs),
    ratioReady: ratio(f.ready.medianMs, e.ready.medianMs),
  };
}

const sleepSeconds = 8;
const sleeper: Request = {
  manifest: { id: 'bench-sleeper', title: { en: 'bench', zh: 'bench' }, language: 'python', kind: 'script', entry: 'main.py' },
  files: { 'main.py': `import time\nprint("start", flush=True)\ntime.sleep(${sleepSeconds})\nprint("done")\n` },
};

/**
 * `count` sleep-bound runs sent at once, 4 to a connection (a page may have 8): runs per second from
 * the first send to the last exit, and the median run's own duration beside it, so that what the
 * machine added to each run (slower starts) can be told from what the fleet added between runs.
 */
async function throughput(fleet: BenchFleet, count: number) {
  const clients = Array.from({ length: Math.ceil(count / 4) }, () => new Client(fleet.url));
  await Promise.all(clients.map((c) => c.opened));
  const started = performance.now();
  let runs: Array<Record<string, number>>;
  try {
    runs = await Promise.all(Array.from({ length: count }, (_, i) => timeRun((r, emit) => clients[i % clients.length]!.run(r, emit), sleeper, {})));
  } finally {
    clients.forEach((c) => c.close());
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    runs: count,
    seconds: Math.round(seconds * 100) / 100,
    runsPerSecond: Math.round((count / seconds) * 100) / 100,
    medianRunMs: stat(runs.map((r) => r.runMs!)).medianMs,
  };
}

const readers = 60;
const shortRun: Request = {
  manifest: { id: 'bench-reader', title: { en: 'bench', zh: 'bench' }, language: 'python', kind: 'script', entry: 'main.py' },
  files: { 'main.py': 'import time\nprint("hello", flush=True)\ntime.sleep(0.5)\n' },
};

/** 60 readers, each on a connection of its own, all clicking Run at once: run → started for each. */
async function benchQueueWait(fleet: BenchFleet) {
  const clients = Array.from({ length: readers }, () => new Client(fleet.url));
  await Promise.all(clients.map((c) => c.opened));
  try {
    const waits = await Promise.all(clients.map(async (c) => (await timeRun((r, emit) => c.run(r, emit), shortRun, { started: (e) => e.type === 'started' })).started!));
    const s = stat(waits);
    return { readers, run: 'print, sleep 0.5 s', p50Ms: s.medianMs, p95Ms: s.p95Ms };
  } finally {
    clients.forEach((c) => c.close());
  }
}

const idleConnections = 500;

/**
 * A fresh gateway's RSS before and after 500 idle page connections (after one connection opened
 * and closed, so the first connection's one-time costs are not counted), after 2 s to settle.
 */
async function benchGatewayMemory(fleet: BenchFleet) {
  const gateway = await fleet.addGateway();
  const settle = () => new Promise((resolve) => setTimeout(resolve, 2000));
  const open = async (n: number) => {
    const clients: Client[] = [];
    // In batches, as readers arrive: 500 handshakes at one instant would measure the burst, not the connections.
    for (let i = 0; i < n; i += 50) {
      const batch = Array.from({ length: Math.min(50, n - i) }, () => new Client(gateway.url));
      await Promise.all(batch.map((c) => c.opened));
      clients.push(...batch);
    }
    return clients;
  };
  (await open(1)).forEach((c) => c.close());
  await settle();
  const before = gateway.rssBytes();
  const clients = await open(idleConnections);
  await settle();
  const after = gateway.rssBytes();
  clients.forEach((c) => c.close());
  return {
    connections: idleConnections,
    rssBeforeMiB: Math.round((before / 2 ** 20) * 10) / 10,
    rssAfterMiB: Math.round((after / 2 ** 20) * 10) / 10,
    perConnectionKiB: Math.round(((after - before) / idleConnections / 1024) * 10) / 10,
  };
}

/**
 * The pools are sized for the fleet, not for this machine's 2 cores: each node runs 3 at once, and
 * each run sleeps 8 s after an interpreter start of a fraction of a CPU-second, so the starts of 9 runs
 * at once (which on 2 busy cores stretch a wave by ~0.5 s) weigh little beside the sleep, and the
 * count of nodes, not the CPU, bounds the rate. Each measurement is 2 waves of the fleet's pools
 * (6, 12, 18 runs): a second wave shows the nodes taking the next jobs as runs end.
 */
export async function benchFleet({ latencyTimes = 8, nodePool = 3, waves = 2 } = {}) {
  const loadBefore = loadavg().map((n) => Math.round(n * 100) / 100);
  const fleet = await BenchFleet.start(nodePool);
  try {
    const latency = await benchLatency(fleet, latencyTimes);
    console.error(`fleet latency: ${JSON.stringify(latency)}`);
    const rates: Record<string, Awaited<ReturnType<typeof throughput>>> = {};
    for (let n = 1; n <= 3; n++) {
      if (fleet.nodes.length < n) await fleet.addNode();
      rates[`${n} node${n > 1 ? 's' : ''}`] = await throughput(fleet, waves * nodePool * n);
      console.error(`fleet throughput, ${n} node(s): ${JSON.stringify(rates[`${n} node${n > 1 ? 's' : ''}`])}`);
    }
    const queueWait = await benchQueueWait(fleet);
    console.error(`fleet queue wait: ${JSON.stringify(queueWait)}`);
    const gatewayMemory = await benchGatewayMemory(fleet);
    console.error(`fleet gateway memory: ${JSON.stringify(gatewayMemory)}`);
    return {
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg().map((n) => Math.round(n * 100) / 100),
      latency,
      throughput: {
        run: `print, sleep ${sleepSeconds} s`,
        nodePool,
        perNode: rates,
        ratio3to1: ratio(rates['3 nodes']!.runsPerSecond, rates['1 node']!.runsPerSecond),
      },
      queueWait: { ...queueWait, nodes: 3, nodePool },
      gatewayMemory,
    };
  } finally {
    await fleet.close();
  }
}
