/**
 * Code colours as classes (src/styles/code-tokens.ts): a known colour pair becomes its class,
 * the text colour needs nothing, an unknown pair keeps its inline style; every class has its
 * rule in global.css with the very colours it replaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { codeToHtml } from 'shiki';
import { plainTokenStyle, tokenClasses, tokenClassTransformer } from '../../src/styles/code-tokens.ts';
import { codeThemes } from '../../src/styles/code-themes.ts';

const highlight = (code: string, transformers = [tokenClassTransformer()]) =>
  codeToHtml(code, { lang: 'python', themes: codeThemes, defaultColor: false, transformers });

test('highlighted Python carries classes, not per-token styles, and the same colours', async () => {
  const code = 'import asyncio\n\nasync def main() -> None:\n    # wait\n    await asyncio.sleep(0.1)\n    print("done", 42)\n';
  const plain = await highlight(code, []);
  const classed = await highlight(code);
  // Every style the plain output uses is one the table (or the text colour) covers.
  const styles = new Set([...plain.matchAll(/<span style="([^"]+)"/g)].map((m) => m[1]!));
  assert.ok(styles.size >= 4, [...styles].join(' | '));
  for (const style of styles) assert.ok(style === plainTokenStyle || style in tokenClasses, `no class for ${style}`);
  assert.doesNotMatch(classed, /<span style=/);
  assert.match(classed, /<span class="tk-k">/);
  assert.ok(classed.length < plain.length * 0.8, `${classed.length} vs ${plain.length}`);
});

test('an unknown colour pair keeps its inline style', () => {
  const node = { type: 'element' as const, tagName: 'span', properties: { style: '--shiki-light:#123456;--shiki-dark:#654321' }, children: [] };
  const transformer = tokenClassTransformer();
  transformer.span!.call({ addClassToHast: () => assert.fail('no class for an unknown pair') } as never, node, 1, 1, node, { content: '', offset: 0 } as never);
  assert.equal(node.properties.style, '--shiki-light:#123456;--shiki-dark:#654321');
});

test('global.css gives each class the colours of the style it replaces', () => {
  const css = readFileSync(new URL('../../src/styles/global.css', import.meta.url), 'utf8');
  for (const [style, cls] of Object.entries(tokenClasses)) {
    const [, light, dark] = /--shiki-light:(#\w+);--shiki-dark:(#\w+)/.exec(style)!;
    const rule = new RegExp(`\\.astro-code \\.${cls} \\{ --shiki-light: ${light!.toLowerCase()}; --shiki-dark: ${dark!.toLowerCase()}; \\}`);
    assert.match(css, rule, cls);
  }
});
