/**
 * The preview proxy: `/__runner/preview/<capability>/<path>` → the run's own server, over the
 * run's activation socket (activation.ts) and the bridge inside the sandbox. Plain HTTP (any
 * usual method; answers streamed, so server-sent events arrive as they are sent) and WebSocket
 * upgrades (after the app's 101, bytes are piped both ways). Behind the runner's gate
 * (gate.ts `checkPreview`), with the limits below (README "Live preview").
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { checkPreview } from '../gate.ts';
import { rawHead, guardHeaders, finalStatus, reasonPhrase, toApp, toPage } from './headers.ts';
import { answerAndClose } from '../raw-answer.ts';
import type { PreviewRegistry, PreviewTarget } from './registry.ts';
import { isPreviewRequest, parseTarget, refusal, type Refusal } from './target.ts';

export const previewLimits = {
  /** Request head: all header names and values together, and how many. */
  headerBytes: 8 * 1024,
  headerCount: 64,
  /** A request body (read whole before it is forwarded). */
  requestBodyBytes: 1024 * 1024,
  /** One answer's body, or one WebSocket tunnel's traffic each way. */
  responseBytes: 8 * 1024 * 1024,
  /** Proxied requests and WebSockets open at once, per run. */
  connectionsPerRun: 16,
  /** From forwarding a request to the app's answer head. */
  headTimeoutMs: 30_000,
};

const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface PreviewProxyOptions {
  previews: PreviewRegistry;
  token: string;
  /** The site's own port (for the Host allow-list). */
  port: () => number;
  log?: (message: string) => void;
}

export interface PreviewProxy {
  /** Answers the request if it is a preview request (true), else leaves it alone (false). */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** The same for an upgrade. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

export function createPreviewProxy({ previews, token, port, log = console.warn }: PreviewProxyOptions): PreviewProxy {
  /** Everything that must hold before a byte goes to the app; a refusal otherwise. */
  const admit = (req: IncomingMessage, websocket: boolean): { target: PreviewTarget; path: string } | Refusal => {
    const parsed = parseTarget(req.url ?? '');
    const gate = checkPreview(req, { port: port(), token, websocket, queryToken: parsed.ok ? parsed.queryToken : undefined });
    if (!gate.ok) return refusal(gate.status, gate.status === 401 ? 'token' : 'forbidden', gate.why);
    if (!methods.has(req.method ?? '') || (websocket && req.method !== 'GET')) return refusal(405, 'method', `${req.method} is not proxied`);
    const headerBytes = req.rawHeaders.reduce((sum, part) => sum + Buffer.byteLength(part) + 2, 0);
    if (headerBytes > previewLimits.headerBytes || req.rawHeaders.length / 2 > previewLimits.headerCount) {
      return refusal(431, 'too-large', `request headers over ${previewLimits.headerBytes / 1024} KiB or ${previewLimits.headerCount} fields`);
    }
    if (!parsed.ok) return parsed;
    const found = previews.lookup(parsed.capability);
    if (found.state === 'ended') return refusal(410, 'ended', 'this run has ended: run the sandbox again');
    if (found.state === 'unknown') return refusal(404, 'unknown-run', 'no such preview');
    if (found.target.open.size >= previewLimits.connectionsPerRun) {
      return refusal(503, 'busy', `at most ${previewLimits.connectionsPerRun} preview connections at once per run`);
    }
    return { target: found.target, path: parsed.path };
  };

  const complain = (why: Refusal) => {
    if (why.status === 401 || why.status === 403) log(`runner: refused a preview request: ${why.why}`);
  };

  return {
    handleRequest(req, res) {
      if (!isPreviewRequest(req.url)) return false;
      const admitted = admit(req, false);
      if ('ok' in admitted) {
        complain(admitted);
        refuseHttp(res, admitted);
        return true;
      }
      forward(req, res, admitted.target, admitted.path).catch((err: unknown) => {
        // A bug, not the app's doing (that is a 502 inside forward): say so, and end this request only.
        log(`runner: preview request failed: ${err instanceof Error ? err.message : String(err)}`);
        failHttp(res);
      });
      return true;
    },

    handleUpgrade(req, socket, head) {
      if (!isPreviewRequest(req.url)) return false;
      socket.on('error', () => socket.destroy());
      let admitted = admit(req, true);
      if (!('ok' in admitted) && String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        admitted = refusal(400, 'bad-upgrade', 'only WebSocket upgrades are proxied');
      }
      if ('ok' in admitted) {
        complain(admitted);
        answerAndClose(socket, refusalBytes(admitted));
        return true;
      }
      tunnel(req, socket, head, admitted.target, admitted.path);
      return true;
    },
  };
}

function refusalBody(why: Refusal): string {
  return `${why.why}\n`;
}

function refusalHeaders(why: Refusal, length: number): Record<string, string | number> {
  return { ...guardHeaders, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': length, 'X-AsyncLab-Preview-Refused': why.code, Connection: 'close' };
}

function refuseHttp(res: ServerResponse, why: Refusal): void {
  const body = refusalBody(why);
  res.writeHead(why.status, refusalHeaders(why, Buffer.byteLength(body)));
  res.end(body);
}

const badAnswer = () => refusal(502, 'bad-answer', 'the run\'s server sent an answer that is not valid HTTP');

/** Why the exchange with the app failed, as the page is told: it timed out, the answer was not HTTP, or there was none. */
function upstreamFailure(err: Error & { code?: string }, timeoutWhy: string): Refusal {
  if (err.message === 'timeout') return refusal(504, 'timeout', timeoutWhy);
  if (err.code?.startsWith('HPE_')) return badAnswer(); // llhttp refused the app's bytes
  if (err.code === 'ECONNRESET') return refusal(502, 'unreachable', 'the run\'s server closed the connection without an answer');
  return refusal(502, 'unreachable', 'the run\'s server could not be reached');
}

/** Ends a page's request that can no longer be answered properly: 502 if nothing was sent yet, else cut. */
function failHttp(res: ServerResponse, why = badAnswer()): void {
  try {
    if (!res.headersSent && !res.destroyed) {
      res.shouldKeepAlive = false;
      refuseHttp(res, why);
      return;
    }
  } catch {
    // fall through: cutting the connection is the answer left
  }
  res.destroy();
}

function refusalBytes(why: Refusal): string {
  const body = refusalBody(why);
  return rawHead(why.status, STATUS_CODES[why.status] ?? 'Refused', refusalHeaders(why, Buffer.byteLength(body))) + body;
}

/** Reads the whole request body, up to the limit (undefined beyond it). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > previewLimits.requestBodyBytes) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > previewLimits.requestBodyBytes) {
        req.removeAllListeners('data');
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => resolve(undefined));
  });
}

async function forward(req: IncomingMessage, res: ServerResponse, target: PreviewTarget, path: string): Promise<void> {
  const body = await readBody(req);
  if (!body) {
    res.shouldKeepAlive = false;
    refuseHttp(res, refusal(413, 'too-large', `request bodies are limited to ${previewLimits.requestBodyBytes / 1024} KiB`));
    return;
  }
  const headers = toApp(req.rawHeaders, req.headers, target.appPort, false);
  if (body.length || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method!)) headers['Content-Length'] = String(body.length);
  // A page that left while its body was read: nothing to forward, nobody to answer.
  if (res.destroyed) return;
  res.on('error', () => res.destroy());
  const upstream = httpRequest({ socketPath: target.socketPath, method: req.method, path, headers, agent: false, setHost: false });
  const entry = { destroy: () => upstream.destroy() };
  target.open.add(entry);
  const done = () => target.open.delete(entry);
  const headTimer = setTimeout(() => upstream.destroy(new Error('timeout')), previewLimits.headTimeoutMs);

  let gotAnswer = false;
  upstream.once('response', (answer) => {
    clearTimeout(headTimer);
    gotAnswer = true;
    answer.once('close', done);
    const status = finalStatus(answer.statusCode);
    if (status === undefined) {
      upstream.destroy();
      failHttp(res);
      return;
    }
    try {
      res.writeHead(status, reasonPhrase(status, answer.statusMessage), toPage(answer.headers));
      res.flushHeaders(); // an event stream's head goes out before its first event
    } catch {
      // toPage passes only what writeHead accepts; should Node still refuse it, the page gets a 502, never a crash.
      upstream.destroy();
      failHttp(res);
      return;
    }
    let sent = 0;
    answer.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (sent > previewLimits.responseBytes) {
        upstream.destroy();
        res.destroy();
        return;
      }
      if (!res.write(chunk)) {
        answer.pause();
        res.once('drain', () => answer.resume());
      }
    });
    answer.once('end', () => res.end());
    answer.once('error', () => res.destroy());
    // The app's connection dropped mid-body: the page's answer is cut too, not left open.
    answer.once('close', () => {
      if (!answer.complete) res.destroy();
    });
  });
  upstream.once('error', (err) => {
    clearTimeout(headTimer);
    done();
    failHttp(res, upstreamFailure(err, `the app sent no answer within ${previewLimits.headTimeoutMs / 1000} s`));
  });
  // Whatever else ends the exchange — the app answering 101 to a plain request makes Node drop the
  // connection with neither 'response' nor 'error' — the page is answered or cut, never left waiting.
  upstream.once('close', () => {
    clearTimeout(headTimer);
    if (!gotAnswer) done(); // else the answer's own 'close' gives the place back
    if (!res.headersSent) failHttp(res);
  });
  // The page left (or a stream viewer disconnected): the app sees its client go.
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.end(body);
}

function tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, target: PreviewTarget, path: string): void {
  const headers = toApp(req.rawHeaders, req.headers, target.appPort, true);
  const upstream = httpRequest({ socketPath: target.socketPath, method: 'GET', path, headers, agent: false, setHost: false });
  const entry = { destroy: () => { upstream.destroy(); socket.destroy(); } };
  target.open.add(entry);
  const done = () => target.open.delete(entry);
  socket.once('close', () => {
    done();
    upstream.destroy();
  });
  const headTimer = setTimeout(() => upstream.destroy(new Error('timeout')), previewLimits.headTimeoutMs);

  let answered = false;
  upstream.once('upgrade', (answer, appSocket, appHead) => {
    clearTimeout(headTimer);
    answered = true;
    appSocket.on('error', () => socket.destroy());
    if (answer.statusCode !== 101 || !socket.writable) {
      appSocket.destroy();
      answerAndClose(socket, refusalBytes(badAnswer()));
      return;
    }
    socket.write(rawHead(101, 'Switching Protocols', toPage(answer.headers, true)));
    entry.destroy = () => {
      appSocket.destroy();
      socket.destroy();
    };
    if (appHead.length) socket.write(appHead);
    if (head.length) appSocket.write(head);
    pipeLimited(socket, appSocket);
    pipeLimited(appSocket, socket);
    appSocket.once('close', () => socket.destroy());
  });
  // The app answered without upgrading (404, 403, 400 …): pass its answer on, then close.
  upstream.once('response', (answer) => {
    clearTimeout(headTimer);
    answered = true;
    answer.on('error', () => socket.destroy());
    const status = finalStatus(answer.statusCode);
    if (status === undefined) {
      upstream.destroy();
      answerAndClose(socket, refusalBytes(badAnswer()));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    answer.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 64 * 1024) chunks.push(chunk);
    });
    answer.once('close', () => {
      if (!answer.complete) socket.destroy();
    });
    answer.once('end', () => {
      const body = Buffer.concat(chunks);
      const headers = { ...toPage(answer.headers), 'Content-Length': body.length, Connection: 'close' };
      delete (headers as Record<string, unknown>)['content-length'];
      answerAndClose(socket, Buffer.concat([Buffer.from(rawHead(status, answer.statusMessage ?? '', headers)), body]));
    });
  });
  upstream.once('error', (err) => {
    clearTimeout(headTimer);
    if (answered) {
      socket.destroy();
      return;
    }
    answered = true;
    answerAndClose(socket, refusalBytes(upstreamFailure(err, 'the app did not answer the upgrade')));
  });
  // Neither an upgrade, an answer nor an error (Node drops some malformed answers quietly): still answered.
  upstream.once('close', () => {
    clearTimeout(headTimer);
    if (answered) return;
    answered = true;
    answerAndClose(socket, refusalBytes(badAnswer()));
  });
  upstream.end();
}

/** Pipes `from` into `to`, cutting both once more than the limit has gone through. */
function pipeLimited(from: Duplex, to: Duplex): void {
  let sent = 0;
  from.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    if (sent > previewLimits.responseBytes) {
      from.destroy();
      to.destroy();
      return;
    }
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.once('end', () => to.end());
}
