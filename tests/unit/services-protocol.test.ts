/**
 * The pieces of the runner's service admin that need no server: RESP framing and parsing,
 * SQL quoting, the SCRAM verifier's shape, the Redis rules' shape. The servers themselves
 * are exercised in tests/runner/services.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand, RespParser } from '../../src/runner/services/resp.ts';
import { runCommandRules } from '../../src/runner/services/redis.ts';
import { quoteIdent, quoteLiteral, scramVerifier } from '../../src/runner/services/sql.ts';

test('RESP commands are arrays of bulk strings, byte lengths counted in UTF-8', () => {
  assert.equal(encodeCommand(['SET', 'k', 'é']).toString('utf8'), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n');
  assert.equal(encodeCommand(['GET', 'a\r\nFLUSHALL']).toString('utf8'), '*2\r\n$3\r\nGET\r\n$11\r\na\r\nFLUSHALL\r\n', 'CRLF in a value stays inside its bulk string');
});

test('RESP replies are parsed across arbitrary chunk boundaries', () => {
  const wire = Buffer.from('+OK\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\n0\r\n*2\r\n$3\r\nk:1\r\n$3\r\nk:2\r\n-NOPERM no\r\n*-1\r\n');
  const expected = ['OK', 42, 'hello', null, ['0', ['k:1', 'k:2']], { error: 'NOPERM no' }, null];
  for (let size = 1; size <= wire.length; size++) {
    const parser = new RespParser();
    const replies = [];
    for (let at = 0; at < wire.length; at += size) replies.push(...parser.push(wire.subarray(at, at + size)));
    assert.deepEqual(replies, expected, `chunks of ${size}`);
  }
});

test('SQL identifiers and literals are quoted as PostgreSQL parses them', () => {
  assert.equal(quoteIdent('asynclab_ab12'), '"asynclab_ab12"');
  assert.equal(quoteIdent('a"; DROP ROLE x; --'), '"a""; DROP ROLE x; --"');
  assert.equal(quoteLiteral("it's"), "'it''s'");
  assert.throws(() => quoteLiteral('a\0b'));
});

test('SCRAM-SHA-256 verifiers have PostgreSQL\'s stored form and depend on the salt', () => {
  const salt = Buffer.alloc(16, 7);
  const v = scramVerifier('pencil', 4096, salt);
  assert.match(v, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
  assert.equal(scramVerifier('pencil', 4096, salt), v, 'deterministic for a given salt');
  assert.notEqual(scramVerifier('pencil'), scramVerifier('pencil'), 'a fresh salt each time');
  assert.throws(() => scramVerifier('pâté'), /ASCII/);
});

test('the Redis run rules start from everything and only take away', () => {
  assert.equal(runCommandRules[0], '+@all');
  for (const rule of ['-@dangerous', '-@admin', '-@scripting', '-scan', '-randomkey', '-pubsub', '-lcs']) assert.ok(runCommandRules.includes(rule as never), rule);
  // Whatever is added back is a subcommand of something removed, never a category.
  for (const rule of runCommandRules.slice(1).filter((r) => r.startsWith('+'))) assert.match(rule, /^\+[a-z]+\|[a-z]+$/);
});
