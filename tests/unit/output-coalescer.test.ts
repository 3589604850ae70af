import assert from 'node:assert/strict';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { coalesceOutput } from '../../src/runner/output-coalescer.ts';
import type { RunEvent } from '../../src/protocol/messages.ts';

function recorder() {
  const events: RunEvent[] = [];
  return { events, emit: (e: RunEvent) => events.push(e) };
}

test('consecutive chunks of one stream go out as one event after the delay', async () => {
  const { events, emit } = recorder();
  const send = coalesceOutput(emit, { delayMs: 5 });
  for (let i = 0; i < 1000; i++) send({ type: 'stdout', data: `${i}\n` });
  assert.equal(events.length, 0, 'nothing is sent before the delay');
  await sleep(30);
  assert.equal(events.length, 1);
  const [first] = events;
  assert.equal(first?.type === 'stdout' && first.data.split('\n').length, 1001);
});

test('order across streams and other events is kept exactly', async () => {
  const { events, emit } = recorder();
  const send = coalesceOutput(emit, { delayMs: 1000 });
  send({ type: 'stdout', data: 'a' });
  send({ type: 'stdout', data: 'b' });
  send({ type: 'stderr', data: 'E' });
  send({ type: 'stdout', data: 'c' });
  send({ type: 'trace', data: '{"ph":"X"}' });
  send({ type: 'stdout', data: 'd' });
  send({ type: 'exit', code: 0, signal: null, durationMs: 1, reason: null });
  assert.deepEqual(
    events.map((e) => `${e.type}:${'data' in e ? e.data : ''}`),
    ['stdout:ab', 'stderr:E', 'stdout:c', 'trace:{"ph":"X"}', 'stdout:d', 'exit:'],
  );
});

test('a large backlog is sent at once, without waiting for the timer', () => {
  const { events, emit } = recorder();
  const send = coalesceOutput(emit, { delayMs: 60_000, maxChars: 100 });
  for (let i = 0; i < 30; i++) send({ type: 'stdout', data: '0123456789' });
  assert.equal(events.length, 3);
  assert.ok(events.every((e) => e.type === 'stdout' && e.data.length === 100));
  send({ type: 'exit', code: 0, signal: null, durationMs: 1, reason: null });
  assert.equal(events.at(-1)!.type, 'exit');
});
