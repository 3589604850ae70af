/**
 * The page's one WebSocket to a runner, shared by every sandbox on the page: runs are
 * multiplexed by runId. Connects lazily and fails a run quickly (never hangs) when no runner
 * answers. The local runner (same origin, per-process token) re-reads its URL after a
 * restart; the hosted runner (a gateway on another origin) asks the page to come back with
 * close code 4000 when it goes away, and the client then reconnects by itself, with backoff,
 * so the next Run finds a connection without a reload.
 */
import { reconnectCloseCode } from '../protocol/close-codes.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import type { Reason } from '../protocol/reasons.ts';
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

type Hello = Extract<ServerMessage, { type: 'hello' }>;

export interface RunnerClientOptions {
  /** ws://host/__runner?token=… (local) or wss://gateway/… (hosted) */
  url: string;
  /**
   * Where to find the runner's current URL when the old one stops working: a restarted
   * server has a new token, which the page can read again from its own HTML.
   */
  refreshUrl?: () => Promise<string | undefined>;
  createSocket?: (url: string) => SocketLike;
  /** How long to wait for a connection before saying the runner is unreachable. */
  connectTimeoutMs?: number;
  /**
   * Why runs still going end when the connection closes, from the close code. The refusal the
   * runner sent just before closing (an `error` message), if any, is passed along.
   */
  lostReason?: (closeCode: number | undefined, refusal: Reason | undefined) => Reason;
  /**
   * Delay before reconnect attempt `attempt` (0, 1, …) after a close with code 4000, or
   * undefined to give up; without this option the client does not reconnect on its own.
   */
  reconnectDelayMs?: (attempt: number) => number | undefined;
}

type Listener = (message: ServerMessage) => void;

const OPEN = 1;

export class RunnerUnreachableError extends Error {}

const pageLeft = (_code: number | undefined, refusal: Reason | undefined): Reason =>
  refusal ?? { code: 'disconnected', message: 'the connection to the runner was lost' };

export class RunnerClient {
  private socket: SocketLike | undefined;
  private connecting: Promise<SocketLike> | undefined;
  private readonly listeners = new Map<string, Listener>();
  private url: string;
  private readonly refreshUrl: (() => Promise<string | undefined>) | undefined;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly connectTimeoutMs: number;
  private readonly lostReason: NonNullable<RunnerClientOptions['lostReason']>;
  private readonly reconnectDelayMs: RunnerClientOptions['reconnectDelayMs'];
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** A connection-level refusal (`error` without a run), kept for the runs the following close ends. */
  private refusal: Reason | undefined;
  private counter = 0;
  /** What the runner said in `hello` about its limits (undefined until connected). */
  limits: Hello['limits'] | undefined;
  /** How the runner isolates runs, as its `hello` said (undefined until connected). */
  isolation: Hello['isolation'] | undefined;
  /** Connections opened so far (the first, then reconnections): for tests and diagnostics. */
  opened = 0;

  constructor({ url, refreshUrl, createSocket, connectTimeoutMs = 4000, lostReason = pageLeft, reconnectDelayMs }: RunnerClientOptions) {
    this.url = url;
    this.refreshUrl = refreshUrl;
    this.createSocket = createSocket ?? ((u) => new WebSocket(u) as unknown as SocketLike);
    this.connectTimeoutMs = connectTimeoutMs;
    this.lostReason = lostReason;
    this.reconnectDelayMs = reconnectDelayMs;
  }

  /** A fresh id for a run of this page. */
  nextRunId(): string {
    this.counter += 1;
    return `r${Date.now().toString(36)}${this.counter}`;
  }

  /** The per-process token in the local runner's URL: its preview proxy wants it too ('' for the hosted runner). */
  get token(): string {
    return new URL(this.url).searchParams.get('token') ?? '';
  }

  /** True while a connection is open (the hosted runner's reconnection is observable by this). */
  get connected(): boolean {
    return this.socket?.readyState === OPEN;
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

  /** Stops reconnecting and closes the connection (the page is going away; tests end with it). */
  close(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  }

  /** Connects, and if that fails, asks for a fresh URL (new token) once and tries again. */
  private async connect(): Promise<SocketLike> {
    if (this.socket?.readyState === OPEN) return this.socket;
    // A Run does not wait for the backoff: it tries now (a restarted gateway's address usually answers at once).
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
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
        socket.onclose = socket.onerror = socket.onopen = socket.onmessage = null;
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
        this.refusal = undefined;
        this.opened += 1;
        socket.onmessage = (ev) => this.dispatch(ev.data);
        // After a runner restart, runs of the old connection are gone: end them honestly.
        socket.onclose = (ev) => this.closed(socket, (ev as { code?: number } | undefined)?.code);
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
    if (message.type === 'hello') {
      this.limits = message.limits;
      this.isolation = message.isolation;
    }
    // A refusal of the connection (over a limit, busy) names why the close that follows ends its
    // runs; a complaint about one malformed message does not.
    if (message.type === 'error' && message.reason.code !== 'bad-request' && message.reason.code !== 'internal') this.refusal = message.reason;
    if ('runId' in message) {
      const listener = this.listeners.get(message.runId);
      listener?.(message);
      if (message.type === 'exit') this.listeners.delete(message.runId);
    }
  }

  private closed(socket: SocketLike, code: number | undefined): void {
    if (this.socket === socket) this.socket = undefined;
    const why = this.lostReason(code, this.refusal);
    this.refusal = undefined;
    const orphans = [...this.listeners.entries()];
    this.listeners.clear();
    for (const [runId, listener] of orphans) listener({ type: 'exit', runId, code: null, signal: null, durationMs: 0, reason: why });
    if (code === reconnectCloseCode && this.reconnectDelayMs) this.scheduleReconnect(0);
  }

  /** After a "come back" close: try again after a growing delay, until connected or the schedule gives up. */
  private scheduleReconnect(attempt: number): void {
    const delay = this.reconnectDelayMs?.(attempt);
    if (delay === undefined) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.connected) return;
      this.open().catch(() => this.scheduleReconnect(attempt + 1));
    }, delay);
  }
}
