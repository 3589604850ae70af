/**
 * The last line of defence for an HTTP server that mounts the runner: an error nobody expected,
 * thrown while serving one request (synchronously in a handler, or later in a callback or
 * promise that request started), ends that request — 500, or its socket destroyed — and is
 * logged with the request it came from. The process, and every other reader's runs, go on.
 *
 * Why a process-wide hook: errors thrown from event callbacks (a proxied answer, a socket's
 * data) never pass through the handler's own stack, so no try/catch around it sees them; they
 * reach `uncaughtException`. Each request is served inside an AsyncLocalStorage context, which
 * Node keeps for every callback and promise that request created, so the hook can tell which
 * request an error belongs to. An error with no request context is still fatal, exactly as
 * without this hook: only what can be pinned on one request is survived.
 *
 * This is not where bugs are handled: every handler parses its input defensively and answers
 * 400/502 by itself. An error that lands here is a bug, and the log says so.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type Log = (message: string) => void;

interface RequestContext {
  req: IncomingMessage;
  /** A plain request's response; upgrades and CONNECTs have only the socket. */
  res: ServerResponse | undefined;
  socket: Duplex;
  log: Log;
}

const serving = new AsyncLocalStorage<RequestContext>();
const guarded = new WeakSet<Server>();
let processHooks = false;

/** `METHOD path` for a log line: cut short, control characters escaped, so a request cannot forge log lines. */
export function describeRequest(req: Pick<IncomingMessage, 'method' | 'url'>): string {
  const cut = (text: string, max: number) => JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text).slice(1, -1);
  return `${cut(req.method ?? '?', 16)} ${cut(req.url ?? '', 160)}`;
}

/** Ends the request an error came from, as well as it still can; never throws. */
function endRequest(context: RequestContext, err: unknown): void {
  const { req, res, socket, log } = context;
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  log(`server: unexpected error while serving ${describeRequest(req)} — answered 500 or closed, still serving:\n${detail}`);
  try {
    if (res && !res.headersSent && !res.destroyed) {
      res.shouldKeepAlive = false;
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end('Internal error: this request failed; the server is still running.\n');
      return;
    }
    if (!res && !socket.destroyed && socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0) {
      socket.end('HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
      return;
    }
  } catch {
    // Answering failed too: closing the socket below is all that is left.
  }
  socket.destroy();
}

function installProcessHooks(): void {
  if (processHooks) return;
  processHooks = true;
  const fatal = (err: unknown) => {
    // What Node does with no handler: print and exit — unless someone else also listens and decides.
    console.error(err);
    process.exit(1);
  };
  process.on('uncaughtException', (err) => {
    const context = serving.getStore();
    if (context) return endRequest(context, err);
    if (process.listenerCount('uncaughtException') === 1) fatal(err);
  });
  process.on('unhandledRejection', (reason) => {
    const context = serving.getStore();
    if (context) return endRequest(context, reason);
    if (process.listenerCount('unhandledRejection') === 1) fatal(reason);
  });
}

/**
 * Serves every request, upgrade and CONNECT of `server` inside a request context (above),
 * whoever's listener handles it (the site, the runner, Vite's middleware in dev).
 */
export function guardServer(server: Server, { log = console.error }: { log?: Log } = {}): void {
  if (guarded.has(server)) return;
  guarded.add(server);
  installProcessHooks();
  const emit = server.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  // Wrapping emit, not each listener: listeners added later (by mountRunner, by Vite) are covered too.
  server.emit = function guardedEmit(this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request' && event !== 'upgrade' && event !== 'connect') return emit.call(this, event, ...args);
    const req = args[0] as IncomingMessage;
    const context: RequestContext =
      event === 'request' ? { req, res: args[1] as ServerResponse, socket: req.socket, log } : { req, res: undefined, socket: args[1] as Duplex, log };
    return serving.run(context, () => {
      try {
        return emit.call(this, event, ...args);
      } catch (err) {
        endRequest(context, err);
        return true;
      }
    });
  } as Server['emit'];
  // Errors on a client's socket before any request (a reset, a parse error) are Node's to answer (400) and close.
}
