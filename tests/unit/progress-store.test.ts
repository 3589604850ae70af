/**
 * The progress store: what it keeps, and that nothing a storage can hold or do
 * (corrupt JSON, wrong shapes, another version, a full quota, storage blocked) makes it throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { challengeKey, parseProgress, progressKey, progressStore, progressVersion } from '../../src/client/progress-store.ts';

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}
const quiet = () => {};

test('a challenge done and a lesson visited are kept, versioned, and read back by a new store', () => {
  const storage = new MemoryStorage();
  let changes = 0;
  const store = progressStore(storage, () => changes++);
  const key = challengeKey('blocking-the-loop-stall', 'offload-the-hash');
  assert.equal(key, 'blocking-the-loop-stall/offload-the-hash');
  assert.equal(store.isDone(key), false);
  assert.equal(store.markDone(key, new Date('2026-12-05T08:00:00Z')), true);
  assert.equal(store.markVisited('blocking-the-loop', new Date('2026-12-05T07:59:00Z')), true);
  assert.equal(changes, 2);
  const again = progressStore(storage, quiet);
  assert.equal(again.isDone(key), true);
  assert.deepEqual(again.load(), {
    done: { [key]: '2026-12-05T08:00:00.000Z' },
    visited: { 'blocking-the-loop': '2026-12-05T07:59:00.000Z' },
  });
  assert.equal(JSON.parse(storage.getItem(progressKey)!).v, progressVersion);
  // Done once stays done at its first date.
  again.markDone(key, new Date('2027-01-01T00:00:00Z'));
  assert.equal(again.load().done[key], '2026-12-05T08:00:00.000Z');
  assert.equal(again.countDone([key, 'other/one', key.toUpperCase()]), 1);
});

test('reset forgets everything and tells the page', () => {
  const storage = new MemoryStorage();
  let changes = 0;
  const store = progressStore(storage, () => changes++);
  store.markDone('a/b');
  assert.equal(store.reset(), true);
  assert.deepEqual(store.load(), { done: {}, visited: {} });
  assert.equal(storage.getItem(progressKey), null);
  assert.equal(changes, 2);
});

test('corrupt JSON and wrong shapes read as no progress', () => {
  for (const text of ['{', 'null', '42', '"x"', '[]', '[{"v":1}]', '{"v":1,"done":[],"visited":"x"}', '{"v":1,"done":null}', '\u0000\uffff']) {
    const storage = new MemoryStorage();
    storage.setItem(progressKey, text);
    assert.deepEqual(progressStore(storage, quiet).load(), { done: {}, visited: {} }, text);
  }
});

test('bad single entries are dropped, good ones kept; "__proto__" stays a plain key', () => {
  const p = parseProgress(
    JSON.stringify({
      v: progressVersion,
      done: { 'a/b': '2026-12-01T00:00:00Z', 'c/d': 5, 'e/f': 'not a date', '': '2026-12-01T00:00:00Z', ['x'.repeat(300)]: '2026-12-01T00:00:00Z' },
      visited: JSON.parse('{"__proto__": "2026-12-01T00:00:00Z", "lesson": "2026-12-02T00:00:00Z"}'),
    }),
  );
  assert.deepEqual(Object.keys(p.done), ['a/b']);
  assert.deepEqual(Object.keys(p.visited).sort(), ['__proto__', 'lesson']);
  assert.equal(Object.getPrototypeOf(p.visited), Object.prototype);
});

test('another version, older or newer, is not guessed at: no progress, and the next save writes the current one', () => {
  for (const v of [0, 2, '1', undefined]) {
    const storage = new MemoryStorage();
    storage.setItem(progressKey, JSON.stringify({ v, done: { 'a/b': '2026-12-01T00:00:00Z' }, visited: {} }));
    const store = progressStore(storage, quiet);
    assert.equal(store.isDone('a/b'), false, String(v));
    store.markDone('c/d');
    const saved = JSON.parse(storage.getItem(progressKey)!);
    assert.equal(saved.v, progressVersion);
    assert.deepEqual(Object.keys(saved.done), ['c/d']);
  }
});

test('a full quota or a blocked storage never throws: saving answers false, reading answers empty', () => {
  const full = new MemoryStorage();
  full.setItem = () => {
    throw new DOMException('quota', 'QuotaExceededError');
  };
  const store = progressStore(full, quiet);
  assert.equal(store.markDone('a/b'), false);
  assert.equal(store.markVisited('lesson'), false);
  assert.equal(store.isDone('a/b'), false);

  const blocked = {
    getItem: () => {
      throw new DOMException('denied', 'SecurityError');
    },
    setItem: () => {
      throw new DOMException('denied', 'SecurityError');
    },
    removeItem: () => {
      throw new DOMException('denied', 'SecurityError');
    },
  };
  const b = progressStore(blocked, quiet);
  assert.deepEqual(b.load(), { done: {}, visited: {} });
  assert.equal(b.markDone('a/b'), false);
  assert.equal(b.reset(), false);

  const none = progressStore(undefined, quiet);
  assert.equal(none.markDone('a/b'), false);
  assert.equal(none.countDone(['a/b']), 0);
});

test('keys that are empty or too long are refused, and a huge record is cut to a bound', () => {
  const storage = new MemoryStorage();
  const store = progressStore(storage, quiet);
  assert.equal(store.markDone(''), false);
  assert.equal(store.markDone('x'.repeat(201)), false);
  const huge = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`s/c${i}`, '2026-12-01T00:00:00Z']));
  storage.setItem(progressKey, JSON.stringify({ v: progressVersion, done: huge, visited: {} }));
  assert.equal(Object.keys(store.load().done).length, 2000);
});
