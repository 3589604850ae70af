/**
 * The soak test (issue 15, "Tests"): for a fixed time, many clients against npm start's own
 * server (src/server/app.ts, with the real runner) run, stop, disconnect and reconnect at
 * random, some of them abusive: fork bombs, output floods, endless loops, memory hogs,
 * malformed messages, garbage requests and upgrades. Afterwards nothing may be left — no run
 * directory, run cgroup, sandbox process or socket — memory must be back near where it was,
 * and a plain run must still complete; after the runner closes, no service process either.
 *
 * Written against behaviour, not today's caps (the queue and per-page caps are changing):
 * every run a still-connected page started ends with exactly one `exit`, last, whatever its
 * reason. ASYNCLAB_SOAK_SECONDS sets the duration (default 60), ASYNCLAB_SOAK_SEED replays a
 * run (the seed is printed; timing still varies, the choices each client makes do not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { runnerGroupFolders } from '../../src/runner/cgroup.ts';
import type { ServerMessage } from '../../src/protocol/messages.ts';
import { connections, openFds, rawRequest, settleTo, startApp, type App } from './http-helpers.ts';
import { node, python } from './helpers.ts';

const seconds = Number(process.env.ASYNCLAB_SOAK_SECONDS ?? 60);
const seed = Number(process.env.ASYNCLAB_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Clients at once: enough to keep the pool and its queue full on a 2-core machine. */
const clients = Number(process.env.ASYNCLAB_SOAK_CLIENTS ?? 10);
/** Stated tolerances: the heap after a full GC, and the resident size (the allocator keeps some pages). */
const heapSlackBytes = 24 * 1024 * 1024;
const rssSlackBytes = 96 * 1024 * 1024;
const fdSlack = 8;

/** xorshift32: tiny and the same everywhere; each client gets its own stream from the seed. */
function prng(start: number) {
  let x = start >>> 0 || 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, chance: (p: number) => next() < p, pick: <T>(items: readonly T[]): T => items[int(items.length)]! };
}
type Rng = ReturnType<typeof prng>;

type Request = { manifest: unknown; files: Record<string, string>; preview?: boolean };

/** What a client may ask to run: the normal, the slow, and the abusive. */
const programs: Record<string, (rng: Rng) => Request> = {
  print: (rng) => python(`print("soak ${rng.int(1000)}")\n`),
  nodePrint: (rng) => node(`console.log("soak ${rng.int(1000)}")\n`),
  sleep: (rng) => python(`import time\nprint("sleeping", flush=True)\ntime.sleep(${(0.2 + rng.next() * 3).toFixed(2)})\nprint("woke")\n`),
  forkBomb: () => python('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n', { timeoutMs: 2_000 }),
  outputFlood: () => python('while True:\n    print("x" * 4096)\n', { timeoutMs: 5_000 }),
  endlessLoop: () => node('for (;;) {}\n', { timeoutMs: 1_500 }),
  memoryHog: () => python('hog = []\nwhile True:\n    hog.append(bytearray(8 * 1024 * 1024))\n', { timeoutMs: 5_000 }),
  threadsAndChildren: () =>
    python('import subprocess, sys, threading, time\nfor _ in range(4):\n    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])\n    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\nprint("spread", flush=True)\ntime.sleep(60)\n', { timeoutMs: 3_000 }),
  redis: () => python('import asyncio, os, redis.asyncio as r\nasync def main():\n    c = r.from_url(os.environ["REDIS_URL"])\n    await c.set(os.environ["REDIS_PREFIX"] + "k", "v")\n    print(await c.get(os.environ["REDIS_PREFIX"] + "k"))\n    await c.aclose()\nasyncio.run(main())\n', { needs: ['redis'] }),
  postgres: () => python('import asyncio, asyncpg\nasync def main():\n    c = await asyncpg.connect()\n    print(await c.fetchval("select 40 + 2"))\n    await c.close()\nasyncio.run(main())\n', { needs: ['postgres'] }),
  preview: () => {
    const app = `import { createServer } from 'node:http';\nexport default createServer((req, res) => res.end('soak app'));\n`;
    const request = node(app, { kind: 'server', entry: 'server.mjs', load: [{ path: '/' }] });
    return { manifest: request.manifest, files: { 'server.mjs': app }, preview: true };
  },
  badManifest: (rng) => ({ manifest: rng.chance(0.5) ? {} : { id: 'x', language: 'cobol' }, files: { 'main.py': 'print(1)' } }),
};
/** Weights: mostly ordinary runs, as a real page would send, with abuse mixed in. */
const programWeights: Array<[string, number]> = [
  ['print', 6], ['nodePrint', 3], ['sleep', 5], ['forkBomb', 1], ['outputFlood', 1], ['endlessLoop', 1],
  ['memoryHog', 1], ['threadsAndChildren', 1], ['redis', 1], ['postgres', 1], ['preview', 1], ['badManifest', 1],
];
function pickProgram(rng: Rng): string {
  let roll = rng.next() * programWeights.reduce((sum, [, w]) => sum + w, 0);
  for (const [name, weight] of programWeights) {
    roll -= weight;
    if (roll < 0) return name;
  }
  return 'print';
}

interface Stats {
  sessions: Record<string, number>;
  runsSent: number;
  /** Exit reasons of runs whose page stayed to hear them (`ok` for a normal end). */
  exits: Record<string, number>;
  /** Runs left behind by a page that disconnected before their exit. */
  abandoned: number;
  stopsSent: number;
  previewsFetched: number;
  garbage: number;
  /** Connections the server turned away with a status (a cap on connections is behaviour, not a failure). */
  refusedConnections: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything each client does; problems (broken invariants) are collected, not thrown, so the soak runs its course. */
class Soak {
  readonly stats: Stats = { sessions: {}, runsSent: 0, exits: {}, abandoned: 0, stopsSent: 0, previewsFetched: 0, garbage: 0, refusedConnections: 0 };
  readonly problems: string[] = [];
  private readonly app: App;
  private readonly deadline: number;

  constructor(app: App, deadline: number) {
    this.app = app;
    this.deadline = deadline;
  }

  async client(index: number): Promise<void> {
    const rng = prng(seed + index * 0x10001);
    for (let session = 0; Date.now() < this.deadline; session++) {
      const kind = rng.pick(['page', 'page', 'page', 'page', 'page', 'page', 'garbage', 'garbage', 'idle', 'malformed'] as const);
      this.stats.sessions[kind] = (this.stats.sessions[kind] ?? 0) + 1;
      const where = `client ${index} session ${session} (${kind})`;
      try {
        if (kind === 'page') await this.page(rng, where);
        else if (kind === 'garbage') await this.garbage(rng);
        else if (kind === 'idle') await this.idle(rng);
        else await this.malformed(rng, where);
      } catch (err) {
        const message = (err as Error).message;
        // A cap on connections answers with a status such as 429 or 503: the page was told, nothing is left.
        if (/^Unexpected server response: (429|503)$/.test(message)) this.stats.refusedConnections += 1;
        else this.problems.push(`${where}: ${message}`);
      }
      if (rng.chance(0.3)) await sleep(rng.int(300));
    }
  }

  /** A page's runner connection; `closed` settles when it is closed from either side. */
  connect(): Promise<{ ws: WebSocket; messages: ServerMessage[]; closed: Promise<void> }> {
    const ws = new WebSocket(`ws://${this.app.host}/__runner?token=${this.app.token}`, { origin: `http://${this.app.host}` });
    const messages: ServerMessage[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as ServerMessage));
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ws, messages, closed }));
      ws.once('error', reject);
    });
  }

  /** A page: a few runs, some stopped, some previews visited; maybe it leaves without waiting. */
  private async page(rng: Rng, where: string): Promise<void> {
    const { ws, messages, closed } = await this.connect();
    const runIds: string[] = [];
    /** Runs this page has sent a stop for: a preview visit racing its own stop may find the server gone. */
    const stopped = new Set<string>();
    const count = 1 + rng.int(4);
    for (let r = 0; r < count; r++) {
      const runId = `r${r}`;
      const program = pickProgram(rng);
      ws.send(JSON.stringify({ type: 'run', runId, ...programs[program]!(rng) }));
      runIds.push(runId);
      this.stats.runsSent += 1;
      if (rng.chance(0.25)) {
        const after = rng.int(2_000);
        setTimeout(() => {
          if (ws.readyState === ws.OPEN) {
            ws.send(JSON.stringify({ type: 'stop', runId }));
            stopped.add(runId);
            this.stats.stopsSent += 1;
          }
        }, after);
      }
      if (rng.chance(0.3)) await sleep(rng.int(500));
    }
    const leaveEarly = rng.chance(0.25);
    const ended = (runId: string) => messages.some((m) => m.type === 'exit' && m.runId === runId);
    const visited = new Set<string>();
    const waitUntil = Date.now() + (leaveEarly ? rng.int(2_500) : 90_000);
    while (Date.now() < waitUntil && !runIds.every(ended)) {
      // A preview that is up gets a visit, then is stopped (it would otherwise serve for minutes).
      for (const m of messages) {
        if (m.type === 'ready' && m.preview && !visited.has(m.runId)) {
          visited.add(m.runId);
          // As the page's preview frame asks: with the page's token in a header.
          const answer = await fetch(`http://${this.app.host}${m.preview.path}`, { headers: { 'X-AsyncLab-Token': this.app.token } }).then(
            (res) => res.text(),
            (err: Error) => err.message,
          );
          if (answer === 'soak app') this.stats.previewsFetched += 1;
          else if (!stopped.has(m.runId)) this.problems.push(`${where}: preview answered ${JSON.stringify(answer.slice(0, 100))}`);
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'stop', runId: m.runId }));
        }
      }
      await sleep(25);
    }
    if (leaveEarly) {
      this.stats.abandoned += runIds.filter((id) => !ended(id)).length;
      if (rng.chance(0.5)) ws.terminate();
      else ws.close();
    } else {
      ws.close();
    }
    await closed;
    for (const runId of runIds) {
      const mine = messages.filter((m) => 'runId' in m && m.runId === runId);
      const exits = mine.filter((m) => m.type === 'exit');
      if (leaveEarly && exits.length === 0) continue;
      if (exits.length !== 1) {
        this.problems.push(`${where} ${runId}: ${exits.length} exits (${JSON.stringify(mine.map((m) => m.type))})`);
        continue;
      }
      if (mine.at(-1) !== exits[0]) this.problems.push(`${where} ${runId}: exit is not last`);
      const exit = exits[0] as Extract<ServerMessage, { type: 'exit' }>;
      const code = exit.reason?.code ?? 'ok';
      this.stats.exits[code] = (this.stats.exits[code] ?? 0) + 1;
    }
  }

  /** Garbage over raw TCP: random bytes, malformed request lines and escapes, upgrades nobody should accept. */
  private async garbage(rng: Rng): Promise<void> {
    const host = this.app.host;
    const token = this.app.token;
    const requests = [
      () => Buffer.from(Array.from({ length: 1 + rng.int(300) }, () => rng.int(256))),
      () => `GET /x%${rng.pick(['ff', 'zz', 'c3%28', '', '%'])}.png HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      () => `GET /__runner?token=${token} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: http://${host}\r\n\r\n`,
      () => `GET /__runner?token=wrong HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      () => `GET /somewhere HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      () => `GET /__runner/preview/${'A'.repeat(rng.int(80))}/ HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      () => `${'X'.repeat(rng.int(20_000))} / HTTP/1.1\r\n\r\n`,
      () => `GET / HTTP/1.1\r\nHost: ${host}\r\n${'X-A: b\r\n'.repeat(rng.int(2_000))}\r\n`,
      () => `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100000\r\n\r\nshort`,
      () => `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`,
    ];
    const count = 1 + rng.int(6);
    await Promise.all(
      Array.from({ length: count }, async () => {
        this.stats.garbage += 1;
        await rawRequest(this.app.port, rng.pick(requests)(), { deadlineMs: 300 + rng.int(1_500), halfClose: rng.chance(0.2) });
      }),
    );
  }

  /** A page that connects and says nothing, or drops the socket mid-handshake. */
  private async idle(rng: Rng): Promise<void> {
    if (rng.chance(0.5)) {
      const { ws, closed } = await this.connect();
      await sleep(rng.int(1_500));
      if (rng.chance(0.5)) ws.terminate();
      else ws.close();
      await closed;
    } else {
      await rawRequest(this.app.port, `GET /__runner?token=${this.app.token} HTTP/1.1\r\nHost: ${this.app.host}\r\n`, { deadlineMs: rng.int(500) });
    }
  }

  /** Messages no page sends: not JSON, binary, unknown, malformed runs, too big (the server closes that one). */
  private async malformed(rng: Rng, where: string): Promise<void> {
    const { ws, messages, closed } = await this.connect();
    const bad = [
      () => 'not json {',
      () => Buffer.from([0, 1, 2, 255]),
      () => JSON.stringify({ type: 'fly' }),
      () => JSON.stringify({ type: 'run', runId: '../../x', manifest: {}, files: {} }),
      () => JSON.stringify({ type: 'run', runId: 'a', manifest: null, files: { 'main.py': 1 } }),
      () => JSON.stringify({ type: 'stop', runId: 'nothing-running' }),
      () => JSON.stringify({ type: 'run', runId: 'proto', manifest: {}, files: JSON.parse('{"__proto__": "x"}') }),
      () => 'x'.repeat(200 * 1024),
    ];
    const count = 1 + rng.int(20);
    for (let i = 0; i < count && ws.readyState === ws.OPEN; i++) ws.send(rng.pick(bad)());
    await sleep(200 + rng.int(500));
    ws.close();
    await closed;
    const strays = messages.filter((m) => m.type !== 'hello' && m.type !== 'error' && m.type !== 'exit');
    if (strays.length) this.problems.push(`${where}: a malformed message started something: ${JSON.stringify(strays).slice(0, 300)}`);
  }
}

/** Processes below this one (the server runs in it): sandboxes, service servers, bubblewrap. */
function descendants(): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(process.pid);
  return found;
}

async function runGroupsLeft(): Promise<string[]> {
  const own = (await runnerGroupFolders()).filter((f) => f.pid === process.pid);
  return own.flatMap((f) => readdirSync(f.dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${f.dir}/${e.name}`));
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

test(`soak: ${clients} clients for ${seconds} s, at random, abuse included; nothing is left and the server still serves`, { timeout: (seconds + 240) * 1000 }, async () => {
  console.log(`soak: seed ${seed} (replay with ASYNCLAB_SOAK_SEED=${seed}), ${clients} clients, ${seconds} s`);
  const app = await startApp();
  try {
    // Warm up: every kind of run once (the services start here, the modules load), so the
    // baseline is a serving server's, not a cold one's.
    const warm = new Soak(app, 0);
    const warmRng = prng(seed ^ 0x5eed);
    const probe = await warm.connect();
    for (const [i, name] of Object.keys(programs).entries()) {
      if (name === 'preview') continue; // it serves until stopped: the soak's pages stop theirs
      probe.ws.send(JSON.stringify({ type: 'run', runId: `warm${i}`, ...programs[name]!(warmRng) }));
      const deadline = Date.now() + 60_000;
      while (!probe.messages.some((m) => m.type === 'exit' && m.runId === `warm${i}`)) {
        if (Date.now() > deadline) throw new Error(`warm-up run ${name} did not end`);
        await sleep(25);
      }
    }
    probe.ws.close();
    await probe.closed;
    await sleep(500);
    const fdsBefore = await settleTo(openFds, 0, 1_000);
    const heapBefore = heapAfterGc();
    const rssBefore = process.memoryUsage().rss;

    const started = Date.now();
    const soak = new Soak(app, started + seconds * 1000);
    await Promise.all(Array.from({ length: clients }, (_, i) => soak.client(i)));
    const soakMs = Date.now() - started;

    // Everything the soak started has ended: no run, run directory, run cgroup or sandbox process.
    const drained = Date.now() + 30_000;
    while ((app.runner.stats.running > 0 || app.runner.stats.queued > 0) && Date.now() < drained) await sleep(100);
    assert.deepEqual(app.runner.stats, { running: 0, queued: 0 }, 'every run has ended');
    await sleep(300);
    assert.deepEqual(readdirSync(app.runner.workRoot).filter((n) => n.startsWith('run-') || n.startsWith('preview-')), [], 'no run directory or preview socket');
    assert.deepEqual(await runGroupsLeft(), [], 'no run cgroup');
    // Each run's PostgreSQL and Redis live in the run's cgroup and end with it: none may remain.
    assert.deepEqual(app.runner.services.running().map((server) => server.name), [], 'no per-run service server');
    const sandboxes = descendants();
    assert.deepEqual(sandboxes, [], `no sandbox process: ${sandboxes.map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120); } catch { return String(p); } }).join('; ')}`);

    // No socket left open, and memory back near the start.
    const fdsAfter = await settleTo(openFds, fdsBefore + fdSlack, 15_000);
    const openConnections = await settleTo(() => connections(app.server), 0, 5_000);
    const heapAfter = heapAfterGc();
    const rssAfter = process.memoryUsage().rss;

    // A plain run still completes.
    const last = await soak.connect();
    last.ws.send(JSON.stringify({ type: 'run', runId: 'after', ...python('print("still serving")\n') }));
    const deadline = Date.now() + 30_000;
    while (!last.messages.some((m) => m.type === 'exit') && Date.now() < deadline) await sleep(25);
    last.ws.close();
    await last.closed;
    const afterExit = last.messages.find((m) => m.type === 'exit');
    const afterOut = last.messages.flatMap((m) => (m.type === 'stdout' ? [m.data] : [])).join('');

    const { stats } = soak;
    const completed = stats.exits.ok ?? 0;
    const stopped = (stats.exits.stopped ?? 0) + stats.abandoned;
    console.log(
      `soak figures: ${(soakMs / 1000).toFixed(1)} s, sessions ${JSON.stringify(stats.sessions)}, runs sent ${stats.runsSent}, ` +
        `completed ${completed}, stopped ${stats.exits.stopped ?? 0} + ${stats.abandoned} left by their page, exits by reason ${JSON.stringify(stats.exits)}, ` +
        `stops sent ${stats.stopsSent}, connections refused ${stats.refusedConnections}, previews visited ${stats.previewsFetched}, garbage requests ${stats.garbage}; ` +
        `fds ${fdsBefore} → ${fdsAfter}, connections left ${openConnections}, heap ${MiB(heapBefore)} → ${MiB(heapAfter)}, RSS ${MiB(rssBefore)} → ${MiB(rssAfter)}; seed ${seed}`,
    );
    assert.deepEqual(soak.problems, [], `broken invariants (seed ${seed})`);
    assert.deepEqual(app.guardLog, [], 'nothing reached the guard');
    assert.ok(completed > 0 && stopped > 0, `the soak did run and stop things: ${JSON.stringify(stats)}`);
    assert.ok(fdsAfter <= fdsBefore + fdSlack, `fds ${fdsBefore} → ${fdsAfter}`);
    assert.equal(openConnections, 0);
    assert.ok(heapAfter <= heapBefore + heapSlackBytes, `heap ${MiB(heapBefore)} → ${MiB(heapAfter)} (tolerance ${MiB(heapSlackBytes)})`);
    assert.ok(rssAfter <= rssBefore + rssSlackBytes, `RSS ${MiB(rssBefore)} → ${MiB(rssAfter)} (tolerance ${MiB(rssSlackBytes)})`);
    assert.equal(afterExit?.type === 'exit' && afterExit.reason, null, JSON.stringify(afterExit));
    assert.equal(afterOut, 'still serving\n');
  } finally {
    await app.stop();
  }
  // The runner closed: its servers and their data are gone too.
  const left = await settleTo(() => descendants().length, 0, 10_000);
  assert.equal(left, 0, `no process left after close: ${descendants()}`);
  const serviceData = readdirSync('/tmp').filter((n) => n.startsWith(`asynclab-postgres-${process.pid}-`) || n.startsWith(`asynclab-redis-${process.pid}-`));
  assert.deepEqual(serviceData, [], 'no service data left');
});
