/**
 * The page's one WebSocket to the local runner, shared by every sandbox on the page:
 * runs are multiplexed by runId. Connects lazily, reconnects after the runner restarts,
 * and fails a run quickly (never hangs) when no runner answers.
 */
import type { ServerMessage } from '../protocol/messages.ts';
import type { SandboxFiles, SandboxManifest } from '../protocol/manifest.ts';

/** The minimum of the browser's WebSocket this client uses (lets tests pass the `ws` package). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export interface RunnerClientOptions {
  /** ws://host/__runner?token=… */
  url: string;
  /**
   * Where to find the runner's current URL when the old one stops working: a restarted
   * server has a new token, which the page can read again from its own HTML.
   */
  refreshUrl?: () => Promise<string | undefined>;
  createSocket?: (url: string) => SocketLike;
  /** How long to wait for a connection before saying the runner is unreachable. */
  connectTimeoutMs?: number;
}

type Listener = (message: ServerMessage) => void;

const OPEN = 1;

export class RunnerUnreachableError extends Error {}

export class RunnerClient {
  private socket: SocketLike | undefined;
  private connecting: Promise<SocketLike> | undefined;
  private readonly listeners = new Map<string, Listener>();
  private url: string;
  private readonly refreshUrl: (() => Promise<string | undefined>) | undefined;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly connectTimeoutMs: number;
  private counter = 0;
  /** What the runner said in `hello` about its limits (undefined until connected). */
  limits: Extract<ServerMessage, { type: 'hello' }>['limits'] | undefined;

  constructor({ url, refreshUrl, createSocket, connectTimeoutMs = 4000 }: RunnerClientOptions) {
    this.url = url;
    this.refreshUrl = refreshUrl;
    this.createSocket = createSocket ?? ((u) => new WebSocket(u) as unknown as SocketLike);
    this.connectTimeoutMs = connectTimeoutMs;
  }

  /** A fresh id for a run of this page. */
  nextRunId(): string {
    this.counter += 1;
    return `r${Date.now().toString(36)}${this.counter}`;
  }

  /** The per-process token in the runner's URL: the preview proxy wants it too. */
  get token(): string {
    return new URL(this.url).searchParams.get('token') ?? '';
  }

  /** Starts a run; `listener` gets its messages until (and including) `exit`. `preview`: see protocol.ts. */
  async start(runId: string, manifest: SandboxManifest, files: SandboxFiles, listener: Listener, options: { preview?: boolean } = {}): Promise<void> {
    const socket = await this.connect();
    this.listeners.set(runId, listener);
    socket.send(JSON.stringify({ type: 'run', runId, manifest, files, ...(options.preview ? { preview: true } : {}) }));
  }

  stop(runId: string): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify({ type: 'stop', runId }));
  }

  forget(runId: string): void {
    this.listeners.delete(runId);
  }

  /** Connects, and if that fails, asks for a fresh URL (new token) once and tries again. */
  private async connect(): Promise<SocketLike> {
    if (this.socket?.readyState === OPEN) return this.socket;
    try {
      return await this.open();
    } catch (err) {
      const fresh = await this.refreshUrl?.().catch(() => undefined);
      if (!fresh || fresh === this.url) throw err;
      this.url = fresh;
      return this.open();
    }
  }

  private open(): Promise<SocketLike> {
    this.connecting ??= new Promise<SocketLike>((resolve, reject) => {
      let settled = false;
      const socket = this.createSocket(this.url);
      const fail = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.connecting = undefined;
        socket.onclose = socket.onerror = socket.onopen = null;
        try {
          socket.close();
        } catch {
          // never opened
        }
        reject(new RunnerUnreachableError('no runner answered'));
      };
      const timer = setTimeout(fail, this.connectTimeoutMs);
      socket.onerror = fail;
      socket.onclose = fail;
      socket.onopen = () => {
        settled = true;
        clearTimeout(timer);
        this.socket = socket;
        this.connecting = undefined;
        socket.onmessage = (ev) => this.dispatch(ev.data);
        // After a runner restart, runs of the old connection are gone: end them honestly.
        socket.onclose = () => this.dropAll();
        socket.onerror = null;
        resolve(socket);
      };
    });
    return this.connecting;
  }

  private dispatch(data: unknown): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(String(data)) as ServerMessage;
    } catch {
      return;
    }
    if (message.type === 'hello') this.limits = message.limits;
    if ('runId' in message) {
      const listener = this.listeners.get(message.runId);
      listener?.(message);
      if (message.type === 'exit') this.listeners.delete(message.runId);
    }
  }

  private dropAll(): void {
    this.socket = undefined;
    const orphans = [...this.listeners.entries()];
    this.listeners.clear();
    for (const [runId, listener] of orphans) {
      listener({ type: 'exit', runId, code: null, signal: null, durationMs: 0, reason: { code: 'disconnected', message: 'the connection to the runner was lost' } });
    }
  }
}
