import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanExcerpt, parseExcerpt, startsSentence } from '../../src/client/search-excerpt.ts';

// Page texts and excerpts as Pagefind 1.6 gave them for this site's lessons (shortened after the excerpt).
const enPage =
  'async def or def: the event loop and the thread pool. FastAPI awaits async def endpoints on the event loop and runs def endpoints in a limited thread pool, so one blocking call costs a thread in one and every request in the other.';
const zhPage =
  '让所有人卡住的 bug：阻塞事件循环. async def 里的一个阻塞调用，会让整个进程的所有请求停摆；调试模式和时间线能点出元凶，三种修法都能让事件循环重获自由。';

test('an English snippet cut a few words into its sentence starts at the sentence again', () => {
  const excerpt = 'or def: the <mark>event</mark> <mark>loop</mark> and the thread pool. FastAPI awaits async def endpoints on the <mark>event</mark> <mark>loop</mark> and runs def endpoints';
  const clean = cleanExcerpt(excerpt, enPage);
  assert.ok(clean.startsWith('async def or def: the <mark>event</mark> <mark>loop</mark>'), clean);
  assert.ok(clean.endsWith('runs def endpoints …'), clean);
});

test('a Chinese snippet that lost its first characters (让所有人卡住) gets them back', () => {
  const excerpt = '的 bug：阻塞<mark>事件</mark><mark>循环</mark>. async def 里的一个阻塞调用，会让整个进程的所有请求停摆；';
  const clean = cleanExcerpt(excerpt, zhPage);
  assert.ok(clean.startsWith('让所有人卡住的 bug：阻塞<mark>事件</mark><mark>循环</mark>.'), clean);
  // It ends at a sentence mark (；), so nothing is added at the end.
  assert.ok(clean.endsWith('停摆；'), clean);
});

test('a snippet whose sentence starts too far back moves to the next sentence when no match is lost', () => {
  const page = `${'word '.repeat(40)}tail of a long sentence. The event loop runs one callback at a time.`;
  const clean = cleanExcerpt('of a long sentence. The <mark>event</mark> <mark>loop</mark> runs one callback at a time.', page);
  assert.equal(clean, 'The <mark>event</mark> <mark>loop</mark> runs one callback at a time.');
});

test('a snippet that can do neither says so with an ellipsis instead of starting mid-phrase silently', () => {
  const page = `${'word '.repeat(40)}the <mark>event</mark> loop keeps running`.replace(/<\/?mark>/g, '');
  assert.equal(cleanExcerpt('the <mark>event</mark> loop keeps running', page), '… the <mark>event</mark> loop keeps running');
  const zh = `${'字'.repeat(40)}事件循环一直在转`;
  assert.equal(cleanExcerpt('<mark>事件</mark>循环一直在转', zh), '…<mark>事件</mark>循环一直在转');
});

test('text is escaped: a `<locals>` in the page stays text, only the marks are markup', () => {
  const page = 'The name is call_next.<locals>.coro. That is all.';
  const clean = cleanExcerpt('The name is call_next.<locals>.<mark>coro.</mark> That is all.', page);
  assert.equal(clean, 'The name is call_next.&lt;locals&gt;.<mark>coro.</mark> That is all.');
});

test('an excerpt not found in the page text is only escaped', () => {
  assert.equal(cleanExcerpt('a <mark>b</mark> <c>', 'other'), 'a <mark>b</mark> &lt;c&gt;');
});

test('sentence starts: after . ! ? ; followed by a space, after 。！？； at once, never inside asyncio.sleep', () => {
  assert.ok(startsSentence('One. Two', 5));
  assert.ok(startsSentence('一。二', 2));
  assert.ok(!startsSentence('asyncio.sleep', 8));
  assert.ok(startsSentence('Start', 0));
  assert.deepEqual(parseExcerpt('a <mark>b</mark>'), [
    { text: 'a ', marked: false },
    { text: 'b', marked: true },
  ]);
});
