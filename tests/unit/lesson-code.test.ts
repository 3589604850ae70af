/**
 * Code in a lesson that is not a sandbox is still checked: every ```python block must
 * compile as a module with the course's Python (blocks marked ```python fragment are
 * excerpts and are skipped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Block {
  where: string;
  code: string;
}

function pythonBlocks(): Block[] {
  const blocks: Block[] = [];
  for (const lang of ['en', 'zh']) {
    const dir = path.join(root, 'content', 'lessons', lang);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.mdx'))) {
      const source = readFileSync(path.join(dir, file), 'utf8');
      for (const match of source.matchAll(/^```python([^\n]*)\n([\s\S]*?)^```$/gm)) {
        if (match[1]!.includes('fragment')) continue;
        const line = source.slice(0, match.index).split('\n').length;
        blocks.push({ where: `content/lessons/${lang}/${file}:${line}`, code: match[2]! });
      }
    }
  }
  return blocks;
}

test('every Python block in the lessons compiles', () => {
  const blocks = pythonBlocks();
  assert.ok(blocks.length > 0);
  const checker = 'import json, sys\nfor b in json.load(sys.stdin):\n    try:\n        compile(b["code"], b["where"], "exec")\n    except SyntaxError as e:\n        print(f"{b[\'where\']} (+{e.lineno}): {e.msg}")\n';
  const problems = execFileSync(python, ['-c', checker], { input: JSON.stringify(blocks), encoding: 'utf8' });
  assert.equal(problems, '', problems);
});
