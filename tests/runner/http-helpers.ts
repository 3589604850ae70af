/**
 * For the HTTP-surface tests (http-hardening, http-fuzz): npm start's own server (src/server/app.ts)
 * with a real runner over a small built site, a page's runner connection, raw requests, and a
 * preview app that answers whatever raw bytes it is told to — as sandboxed code that took the
 * bridge's socket could (issue 15, item 2).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { newToken } from '../../src/runner/gate.ts';
import type { ServerMessage } from '../../src/protocol/messages.ts';
import { Runner } from '../../src/runner/runner.ts';
import type { Limits } from '../../src/runner/limits.ts';
import type { MountedRunner } from '../../src/runner/ws.ts';
import { createApp } from '../../src/server/app.ts';
import { messageInbox, node } from './helpers.ts';

export interface App {
  runner: Runner;
  server: Server;
  mounted: MountedRunner;
  port: number;
  host: string;
  token: string;
  /** What the guard logged: an unexpected error means a handler was not defensive enough. */
  guardLog: string[];
  stop(): Promise<void>;
}

export async function startApp(limits?: Limits): Promise<App> {
  const root = await mkdtemp(path.join(tmpdir(), 'asynclab-http-'));
  const files: Record<string, string> = {
    'index.html': '<html><head></head><body>choose</body></html>',
    '404.html': 'not found',
    'en/404.html': 'english 404',
    'en/lessons/one/index.html': '<html><head></head><body>lesson</body></html>',
    '_astro/app.abc123.js': 'console.log("asset")',
  };
  for (const [name, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), body);
  }
  const runner = await Runner.start(limits ? { limits } : {});
  const token = newToken();
  const guardLog: string[] = [];
  const { server, mounted } = await createApp({ root, runner, token, headHtml: `<meta name="asynclab-runner" content="${token}">`, log: (m) => guardLog.push(m), warn: () => undefined });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    runner,
    server,
    mounted: mounted!,
    port,
    host: `127.0.0.1:${port}`,
    token,
    guardLog,
    async stop() {
      await runner.close();
      await mounted!.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A page's runner connection: start a run and wait for its `ready` (or `exit`). */
export async function page(app: App) {
  const ws = new WebSocket(`ws://${app.host}/__runner?token=${app.token}`, { origin: `http://${app.host}` });
  const { inbox, next } = messageInbox(ws, 30_000);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const run = async (runId: string, req: { manifest: unknown; files: Record<string, string> }) => {
    ws.send(JSON.stringify({ type: 'run', runId, ...req, preview: true }));
    return (await next((m) => (m.type === 'ready' || m.type === 'exit') && m.runId === runId)) as Extract<ServerMessage, { type: 'ready' | 'exit' }>;
  };
  return { ws, inbox, next, run };
}

/**
 * A Node server sandbox for a live preview: `/raw?b=<base64url>` writes those bytes on the
 * connection as they are and closes it — no HTTP library between the sandbox and the proxy.
 */
const rawApp = `import { createServer } from 'node:http';
export default createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/raw') {
    req.socket.end(Buffer.from(url.searchParams.get('b') ?? '', 'base64url'));
    return;
  }
  res.setHeader('content-type', 'text/plain');
  res.end('app ok');
});
`;

export function rawPreviewApp(): { manifest: unknown; files: Record<string, string> } {
  const request = node(rawApp, { kind: 'server', entry: 'server.mjs', load: [{ path: '/' }] });
  return { manifest: request.manifest, files: { 'server.mjs': rawApp } };
}

/** The preview path that makes the app answer exactly `bytes`. */
export function rawAnswerPath(base: string, bytes: Buffer): string {
  return `${base}raw?b=${bytes.toString('base64url')}`;
}

export interface RawOutcome {
  /** The status of the first answer, 0 if none came. */
  status: number;
  /** The server closed the connection (as opposed to the client giving up at the deadline). */
  closedByServer: boolean;
  text: string;
}

/**
 * Raw bytes on a fresh connection. Resolves when the server closes it, or once an answer head
 * has arrived (`untilAnswer`), or at the deadline — whichever comes first. `halfClose` ends the
 * client's side after writing (Node's server then drops the connection: for truncated requests).
 */
export function rawRequest(port: number, bytes: string | Buffer, opts: { deadlineMs?: number; halfClose?: boolean; untilAnswer?: boolean } = {}): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), closedByServer, text });
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (opts.untilAnswer && /\r\n\r\n/.test(text)) finish(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    const timer = setTimeout(() => finish(false), opts.deadlineMs ?? 3000);
    if (opts.halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

/** This process's open file descriptors (the server runs in it). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

/** Waits until `probe` is at most `target` (sockets close asynchronously), up to `ms`; returns the last value. */
export async function settleTo(probe: () => number | Promise<number>, target: number, ms = 5000): Promise<number> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (value > target && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}

/** mulberry32: small, fast, good enough to pick test cases, and the same on every machine. */
export function prng(start: number) {
  let a = start >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    int,
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))),
    /** Printable text; one string in five has the odd control or high character in it. */
    text: (n: number) => {
      const noisy = next() < 0.2;
      return Array.from({ length: n }, () => (!noisy || next() < 0.8 ? String.fromCharCode(0x21 + int(94)) : String.fromCharCode(int(8) === 0 ? int(32) : 0x7f + int(129)))).join('');
    },
  };
}
