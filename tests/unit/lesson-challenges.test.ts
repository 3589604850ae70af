/** A lesson's challenge keys, as the lesson lists and the home page count them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lessonChallengeKeys } from '../../src/sandbox/lesson-challenges.ts';

test('the challenges of the sandboxes a lesson embeds, sorted, each once; folders without challenge.json do not count', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lesson-challenges-'));
  const challenge = (sandbox: string, id: string, file = true) => {
    const dir = path.join(root, 'sandboxes', sandbox, 'challenges', id);
    mkdirSync(dir, { recursive: true });
    if (file) writeFileSync(path.join(dir, 'challenge.json'), '{}');
  };
  challenge('a', 'zeta');
  challenge('a', 'alpha');
  challenge('a', 'draft', false);
  challenge('b', 'one');
  challenge('unused', 'x');
  mkdirSync(path.join(root, 'sandboxes', 'c'), { recursive: true });
  const body = 'Intro\n\n<Sandbox id="a" />\n\ntext\n\n<Sandbox\n  id=\'c\' />\n<Sandbox id="b"/>\n<Sandbox id="a" />\n';
  assert.deepEqual(lessonChallengeKeys(body, root), ['a/alpha', 'a/zeta', 'b/one']);
  assert.deepEqual(lessonChallengeKeys('no sandboxes here', root), []);
});
