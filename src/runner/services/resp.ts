/**
 * A minimal Redis client (RESP2 over a Unix socket) for the runner's own admin work:
 * creating and deleting per-run ACL users and their keys. Commands are sent as arrays
 * of bulk strings, so no value is ever parsed or quoted by anyone: there is nothing to
 * inject. Replies come back in order; an error reply rejects its command with RespError.
 */
import { connect, type Socket } from 'node:net';

export type RespValue = string | number | null | RespValue[];

export class RespError extends Error {}

/** `SET k v` → `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n`. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** An error reply, kept apart from values so the client can reject just that command. */
export interface RespErrorReply {
  error: string;
}
type Reply = RespValue | RespErrorReply;

/** Incremental RESP2 parser: feed it chunks, get the complete replies so far. */
export class RespParser {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Reply[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const replies: Reply[] = [];
    for (;;) {
      const parsed = this.parse(0);
      if (!parsed) break;
      replies.push(parsed.value);
      this.buffer = this.buffer.subarray(parsed.next);
    }
    return replies;
  }

  /** One reply starting at `at`, or undefined when it has not fully arrived yet. */
  private parse(at: number): { value: Reply; next: number } | undefined {
    const eol = this.buffer.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const type = String.fromCharCode(this.buffer[at]!);
    const line = this.buffer.toString('utf8', at + 1, eol);
    const next = eol + 2;
    switch (type) {
      case '+':
        return { value: line, next };
      case '-':
        return { value: { error: line }, next };
      case ':':
        return { value: Number(line), next };
      case '$': {
        const length = Number(line);
        if (length < 0) return { value: null, next };
        if (this.buffer.length < next + length + 2) return undefined;
        return { value: this.buffer.toString('utf8', next, next + length), next: next + length + 2 };
      }
      case '*': {
        const count = Number(line);
        if (count < 0) return { value: null, next };
        const items: RespValue[] = [];
        let cursor = next;
        for (let i = 0; i < count; i++) {
          const item = this.parse(cursor);
          if (!item) return undefined;
          // Nested errors only occur in EXEC replies, which the runner never sends.
          items.push(isError(item.value) ? null : item.value);
          cursor = item.next;
        }
        return { value: items, next: cursor };
      }
      default:
        throw new RespError(`unexpected reply type ${JSON.stringify(type)}`);
    }
  }
}

function isError(reply: Reply): reply is RespErrorReply {
  return typeof reply === 'object' && reply !== null && !Array.isArray(reply);
}

export class RespClient {
  private readonly socket: Socket;
  private readonly parser = new RespParser();
  private readonly pending: Array<{ resolve: (v: RespValue) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      let replies: Reply[];
      try {
        replies = this.parser.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const reply of replies) {
        const waiter = this.pending.shift();
        if (this.pending.length === 0) this.socket.unref();
        if (!waiter) continue;
        if (isError(reply)) waiter.reject(new RespError(reply.error));
        else waiter.resolve(reply);
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new RespError('the Redis connection closed')));
  }

  static connect(socketPath: string, timeoutMs = 2000): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      const timer = setTimeout(() => socket.destroy(new RespError(`no answer on ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        // An idle admin connection must not keep the process alive; a pending command does.
        socket.unref();
        resolve(new RespClient(socket));
      });
    });
  }

  command(...args: string[]): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.ref();
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.splice(0)) waiter.reject(this.failure);
  }
}
