/**
 * The console's bookkeeping (src/client/sandbox/output-buffer.ts): line counts, where the
 * start of a text is cut, and the bounded copy kept for "Download the full output".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countLines, cutIndex, OutputStore } from '../../src/client/sandbox/output-buffer.ts';

test('countLines counts newlines, not a last unfinished line', () => {
  assert.equal(countLines(''), 0);
  assert.equal(countLines('a'), 0);
  assert.equal(countLines('a\nb\n'), 2);
  assert.equal(countLines('\n\n\nx'), 3);
});

test('cutIndex drops whole lines first, and cuts a long line only by characters', () => {
  const text = 'one\ntwo\nthree\n';
  assert.equal(text.slice(cutIndex(text, 1, 0)), 'two\nthree\n');
  assert.equal(text.slice(cutIndex(text, 2, 0)), 'three\n');
  assert.equal(cutIndex(text, 5, 0), text.length, 'more lines than there are: all of it');
  // Characters: cut at the end of the line the count lands in, so the first kept line is whole.
  assert.equal(text.slice(cutIndex(text, 0, 2)), 'two\nthree\n');
  assert.equal(text.slice(cutIndex(text, 0, 5)), 'three\n');
  // One long line: no newline to cut at, so exactly the characters asked for.
  assert.equal('abcdefgh'.slice(cutIndex('abcdefgh', 0, 3)), 'defgh');
  assert.equal(cutIndex('abc', 0, 10), 3);
});

test('cutIndex never reaches far past a long line to find a newline (the marker after a flood stays)', () => {
  // A flood of one huge line, then the runner's marker on its own line: trimming a few
  // characters off the front must not drop the whole line, nor the newline before the marker.
  const text = `${'x'.repeat(50_000)}\n[output cut at 1024 KiB]\n`;
  const kept = text.slice(cutIndex(text, 0, 26));
  assert.equal(kept.length, text.length - 26);
  assert.ok(kept.endsWith('x\n[output cut at 1024 KiB]\n'));
  // A short line still ends where it ends.
  const lines = `1022\n1023\n${'y'.repeat(10)}\n`;
  assert.equal(lines.slice(cutIndex(lines, 0, 6)), `${'y'.repeat(10)}\n`);
});

test('OutputStore keeps everything under its bound, merged into few pieces', () => {
  const store = new OutputStore(1024 * 1024);
  for (let i = 0; i < 100_000; i += 1) store.add(`${i}\n`);
  const text = store.text().join('');
  assert.equal(store.totalLines, 100_000);
  assert.equal(store.droppedLines, 0);
  assert.ok(text.startsWith('0\n1\n2\n'));
  assert.ok(text.endsWith('99999\n'));
  assert.ok(store.text().length < 20, `a flood of tiny chunks is a few strings (${store.text().length})`);
});

test('OutputStore drops the oldest text past its bound and counts what it dropped', () => {
  const store = new OutputStore(100);
  for (let i = 0; i < 1000; i += 1) store.add(`line ${String(i).padStart(4, '0')}\n`); // 10 chars a line
  assert.ok(store.keptChars <= 100);
  const text = store.text().join('');
  assert.ok(text.endsWith('line 0999\n'));
  assert.ok(text.startsWith('line '), 'the kept text starts at a line');
  assert.equal(store.totalLines, 1000);
  assert.equal(store.droppedLines + countLines(text), 1000);
  assert.equal(store.droppedChars + text.length, 10_000);
});
