/**
 * The per-run log line (src/fleet/run-log.ts): one JSON object with the run's identifiers, times
 * and exit code, and nothing of what the run was given or printed, whatever the caller passes in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunJobData } from '../../src/fleet/contract.ts';
import { runLogEntry, runLogLine, sandboxIdOf, writeRunLog, type RunLogEntry } from '../../src/fleet/run-log.ts';
import { reason } from '../../src/protocol/reasons.ts';

const secret = 'SECRET-7f3a9c';

function job(overrides: Partial<RunJobData> = {}): RunJobData {
  return {
    runId: 'gw1.c42.run-7',
    manifest: { id: 'event-loop-basics', kind: 'script', language: 'python', entry: 'main.py', title: { en: secret } },
    files: { 'main.py': `print("${secret}")\n`, [`${secret}.txt`]: secret },
    preview: false,
    client: 'AbCdEfGhIjKlMnOpQrStUv',
    gateway: 'gw1',
    submittedAt: 1_000,
    ...overrides,
  };
}

test('a line has the run id, sandbox id, node, client hash, queue wait, duration and exit reason', () => {
  const entry = runLogEntry('node', job(), { node: 'node-2', startedAt: 1_250, durationMs: 840.4, exit: 'timeout' });
  const line = runLogLine(entry, new Date('2026-12-05T08:00:00Z'));
  assert.ok(!line.includes('\n'));
  assert.deepEqual(JSON.parse(line), {
    ts: '2026-12-05T08:00:00.000Z',
    log: 'run',
    from: 'node',
    run: 'gw1.c42.run-7',
    sandbox: 'event-loop-basics',
    node: 'node-2',
    client: 'AbCdEfGhIjKlMnOpQrStUv',
    queueWaitMs: 250,
    durationMs: 840,
    exit: 'timeout',
  });
  const normal = JSON.parse(runLogLine(runLogEntry('gateway', job(), { node: null, startedAt: null, durationMs: null, exit: null })));
  assert.equal(normal.exit, 'normal');
  assert.equal(normal.node, null);
  assert.equal(normal.queueWaitMs, null);
});

test("a run's files, output and reason sentences cannot reach the line, even if a caller hands them over", () => {
  const run = job();
  // Everything the node has in hand when it logs: the job with its files, and the exit event with a reason built from the run.
  const exitEvent = { type: 'exit', code: 1, signal: null, durationMs: 12, reason: reason('internal', { detail: secret }), stdout: secret };
  const hostile = {
    ...runLogEntry('node', run, { node: 'node-1', startedAt: 1_100, durationMs: 12, exit: 'internal' }),
    ...exitEvent,
    files: run.files,
    source: run.files['main.py'],
    address: '203.0.113.9',
  } as unknown as RunLogEntry;
  const lines: string[] = [];
  writeRunLog(hostile, { write: (text: string) => lines.push(text) });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('\n'));
  assert.ok(!lines[0]!.includes(secret), lines[0]);
  assert.ok(!lines[0]!.includes('203.0.113.9'));
  assert.deepEqual(Object.keys(JSON.parse(lines[0]!)), ['ts', 'log', 'from', 'run', 'sandbox', 'node', 'client', 'queueWaitMs', 'durationMs', 'exit']);
});

test('identifier fields that do not match their pattern are written as "invalid", never copied', () => {
  const smuggled = runLogEntry('node', job({ runId: `x.y.${secret}\n{"forged":1}`, client: `${secret} 203.0.113.9`, manifest: { id: `Hello ${secret}` } }), {
    node: `node\n${secret}`,
    startedAt: Number.NaN,
    durationMs: -5,
    exit: secret as never,
  });
  const line = runLogLine(smuggled);
  assert.ok(!line.includes(secret));
  const parsed = JSON.parse(line);
  assert.equal(parsed.run, 'invalid');
  assert.equal(parsed.client, 'invalid');
  assert.equal(parsed.sandbox, 'invalid');
  assert.equal(parsed.node, 'invalid');
  assert.equal(parsed.exit, 'invalid');
  assert.equal(parsed.queueWaitMs, null);
  assert.equal(parsed.durationMs, null);
  assert.equal(sandboxIdOf(null), 'invalid');
  assert.equal(sandboxIdOf({ id: 'a'.repeat(81) }), 'invalid');
});
