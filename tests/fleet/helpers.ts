/**
 * The fleet as the tests start it: the private Redis, one gateway and N nodes as real child
 * processes (src/fleet/launch.ts), and a page-like client that speaks the runner protocol with an
 * allowed Origin.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { startFleetRedis, type FleetRedis } from '../../src/fleet/redis-server.ts';
import { startFleetChild, type FleetChild } from '../../src/fleet/launch.ts';
import type { RunEvent, ServerMessage } from '../../src/protocol/messages.ts';
import type { SandboxFiles } from '../../src/protocol/manifest.ts';

export const siteOrigin = 'http://site.example.test';

export interface TestFleet {
  redis: FleetRedis;
  gateway: FleetChild;
  nodes: FleetChild[];
  /** ws://127.0.0.1:<port>/__runner */
  url: string;
  httpBase: string;
  env: NodeJS.ProcessEnv;
  /** Starts one more node (and waits until it takes runs). */
  addNode(label: string, extraEnv?: NodeJS.ProcessEnv): Promise<FleetChild>;
  /** Starts a gateway again (after a test stopped it), on a new port. */
  restartGateway(): Promise<void>;
  close(): Promise<void>;
}

const quiet = process.env.FLEET_TEST_VERBOSE ? (label: string, line: string) => console.log(`[${label}] ${line}`) : undefined;

export async function startTestFleet({ nodes = 3, concurrency = 2, extraEnv = {} }: { nodes?: number; concurrency?: number; extraEnv?: NodeJS.ProcessEnv } = {}): Promise<TestFleet> {
  const redis = await startFleetRedis();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redis.url,
    ASYNCLAB_FLEET_SECRET: randomBytes(32).toString('base64url'),
    ASYNCLAB_PUBLIC_ORIGINS: siteOrigin,
    RUNNER_CONCURRENCY: String(concurrency),
    PORT: '0',
    HOST: '127.0.0.1',
    ...extraEnv,
  };
  const children: FleetChild[] = [];
  const fleet: TestFleet = {
    redis,
    gateway: undefined as unknown as FleetChild,
    nodes: [],
    url: '',
    httpBase: '',
    env,
    async addNode(label, more = {}) {
      const node = startFleetChild('node', { ...env, ...more }, { label, ...(quiet ? { onLine: quiet } : {}) });
      children.push(node);
      await node.ready;
      return node;
    },
    async restartGateway() {
      const gateway = startFleetChild('gateway', env, { label: 'gateway', ...(quiet ? { onLine: quiet } : {}) });
      children.push(gateway);
      const m = await gateway.ready;
      fleet.gateway = gateway;
      fleet.httpBase = `http://127.0.0.1:${m[2]}`;
      fleet.url = `ws://127.0.0.1:${m[2]}/__runner`;
    },
    async close() {
      await Promise.all(children.map((c) => c.stop('SIGKILL')));
      await redis.close();
    },
  };
  try {
    fleet.nodes = await Promise.all(Array.from({ length: nodes }, (_, i) => fleet.addNode(`node-${i + 1}`)));
    await fleet.restartGateway();
  } catch (err) {
    await fleet.close();
    throw err;
  }
  return fleet;
}

/** A page's connection to the gateway: every message kept, with waits for the ones a test needs. */
export class Page {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly opened: Promise<void>;
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];

  constructor(url: string, origin = siteOrigin) {
    this.ws = new WebSocket(url, { headers: { Origin: origin } });
    this.ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      this.waiters.splice(0).forEach((wake) => wake());
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
      this.waiters.splice(0).forEach((wake) => wake());
    });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  run(runId: string, request: { manifest: unknown; files: SandboxFiles; preview?: boolean }): void {
    this.ws.send(JSON.stringify({ type: 'run', runId, ...request }));
  }

  stop(runId: string): void {
    this.ws.send(JSON.stringify({ type: 'stop', runId }));
  }

  /** Waits for a message matching `pred` (already received or still to come). */
  async waitFor(pred: (m: ServerMessage) => boolean, ms = 60_000): Promise<ServerMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages).slice(-600)}`);
      if (this.closeCode !== undefined) throw new Error(`the connection closed (${this.closeCode}) before a matching message`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  exit(runId: string, ms?: number): Promise<Extract<ServerMessage, { type: 'exit' }>> {
    return this.waitFor((m) => m.type === 'exit' && m.runId === runId, ms) as Promise<Extract<ServerMessage, { type: 'exit' }>>;
  }

  eventsOf(runId: string): RunEvent[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { runId: string }> => 'runId' in m && m.runId === runId);
  }

  stdoutOf(runId: string): string {
    return this.eventsOf(runId).flatMap((e) => (e.type === 'stdout' ? [e.data] : [])).join('');
  }

  close(): void {
    this.ws.close();
  }
}

/** A short Python script sandbox (the manifest of a real one from sandboxes/, its file edited as a reader would). */
export function scriptRun(source: string): { manifest: unknown; files: SandboxFiles } {
  return {
    manifest: { id: 'event-loop-two-sleeps', title: { en: 'asyncio.sleep versus time.sleep', zh: 'asyncio.sleep 与 time.sleep' }, language: 'python', kind: 'script', entry: 'two_sleeps.py', needs: [] },
    files: { 'two_sleeps.py': source },
  };
}
