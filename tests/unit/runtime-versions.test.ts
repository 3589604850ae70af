/** The versions label beside Python sandboxes comes from runtime.json, never from a copy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sandboxStack, stackLabel } from '../../src/sandbox/runtime-versions.ts';
import { useStrings } from '../../src/i18n/ui.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

test('sandboxStack reads python and fastapi from runtime.json, and both languages fill the label', () => {
  const { versions } = JSON.parse(readFileSync(path.join(root, 'sandboxes', '_runtime', 'runtime.json'), 'utf8'));
  const stack = sandboxStack(root);
  assert.deepEqual(stack, { python: versions.python, fastapi: versions.fastapi });
  for (const locale of ['en', 'zh'] as const) {
    const label = stackLabel(useStrings(locale).sandbox.versions, stack);
    assert.equal(label, `Python ${versions.python} · FastAPI ${versions.fastapi}`);
  }
});
