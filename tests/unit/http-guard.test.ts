/**
 * The process-wide guard (src/server/guard.ts): an error thrown while serving one request —
 * in the handler, a timer or a promise it started, an upgrade handler — is logged with that
 * request and ends it (500, or the socket closed), and the server keeps serving. An error tied
 * to no request is still fatal. Run in a child process: the guard hooks `uncaughtException`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describeRequest } from '../../src/server/guard.ts';
import { rawRequest } from '../support/raw-http.ts';

const fixture = new URL('../fixtures/servers/guarded-server.ts', import.meta.url).pathname;
let child: ChildProcess;
let port: number;
let output = '';

before(async () => {
  child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port: ${output}`)), 10_000);
    child.stdout!.on('data', () => {
      const m = /port (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
});
after(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

/** One raw request; resolves with what came back before the server closed (or 3 s passed). */
function raw(text: string): Promise<string> {
  return rawRequest(port, text);
}

const get = (path: string) => raw(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);

test('an error thrown in the handler is a 500 for that request, logged with it; the server goes on', async () => {
  assert.match(await get('/sync'), /^HTTP\/1\.1 500 /);
  assert.match(output, /unexpected error while serving GET \/sync .*thrown in the handler/s);
  assert.match(await get('/'), /^HTTP\/1\.1 200 [\s\S]*fine$/);
});

test('errors thrown later, in a timer or a promise the request started, end that request too', async () => {
  assert.match(await get('/timer'), /^HTTP\/1\.1 500 /);
  assert.match(output, /GET \/timer .*thrown in a timer/s);
  assert.match(await get('/promise'), /^HTTP\/1\.1 500 /);
  assert.match(output, /GET \/promise .*rejected in a promise/s);
  // The head was already sent: the connection is cut, the answer is visibly incomplete.
  const late = await get('/late');
  assert.match(late, /^HTTP\/1\.1 200 /);
  assert.doesNotMatch(late, /\r\n0\r\n\r\n$/, 'a cut chunked answer has no last chunk');
  assert.match(output, /GET \/late .*thrown after the head was sent/s);
  assert.match(await get('/'), /fine$/);
});

test('an error in an upgrade handler closes that socket with a 500', async () => {
  const answer = await raw(`GET /upgrade-throws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
  assert.match(answer, /^HTTP\/1\.1 500 /);
  assert.match(output, /GET \/upgrade-throws .*thrown in an upgrade handler/s);
  assert.match(await get('/'), /fine$/);
});

test('the log line cannot be forged by the request: control characters are escaped, the path is cut', () => {
  const line = describeRequest({ method: 'GET', url: `/a\r\nLOG fake${'x'.repeat(500)}` });
  assert.doesNotMatch(line, /[\r\n]/);
  assert.ok(line.length < 200, line);
});

test('an error tied to no request is still fatal, as without the guard', async () => {
  await get('/outside');
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (c) => resolve(c));
    setTimeout(() => resolve(null), 5000).unref();
  });
  assert.equal(code, 1, output);
  assert.match(output, /thrown outside any request/);
});
