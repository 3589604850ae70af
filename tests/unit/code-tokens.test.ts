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

/** Each character of the code with the look it is drawn in (class or inline style; '' for the text colour). */
function looks(html: string): { text: string; look: string[] } {
  const code = /<code>([\s\S]*)<\/code>/.exec(html)![1]!;
  let text = '';
  const look: string[] = [];
  const stack: string[] = [];
  for (const m of code.matchAll(/<span(?: class="([^"]*)")?(?: style="([^"]*)")?>|<\/span>|([^<]+)/g)) {
    if (m[0] === '</span>') stack.pop();
    else if (m[3] !== undefined) {
      const value = m[3].replace(/&#x3C;/g, '<').replace(/&#x26;/g, '&').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
      const current = stack.filter((s) => s && s !== 'line').pop() ?? '';
      text += value;
      for (const _ of value) look.push(current);
    } else {
      const style = m[2] ?? '';
      stack.push(m[1] ?? (style === plainTokenStyle ? '' : tokenClasses[style] ?? style));
    }
  }
  return { text, look };
}

test('the markup is minimal: no line wrappers, no bare spans, one span per run of a colour; every character keeps its colour', async () => {
  const code = 'async def fetch(client, url: str) -> dict:\n    """Get one page."""\n    response = await client.get(url, timeout=5)  # may raise\n    return {"url": url, "size": len(response.text)}\n';
  const plain = await highlight(code, []);
  const merged = await highlight(code);
  assert.doesNotMatch(merged, /class="line"/);
  assert.doesNotMatch(merged, /<span>/);
  // Two neighbouring spans never share a class: they would have been one.
  assert.doesNotMatch(merged, /<span class="([^"]+)">[^<]*<\/span><span class="\1">/);
  const before = looks(plain);
  const after = looks(merged);
  assert.equal(after.text, before.text);
  assert.equal(after.text, code);
  // Spaces may join a neighbour (a space shows no colour); every other character keeps its own.
  for (const [i, ch] of [...after.text].entries()) if (!/\s/.test(ch)) assert.equal(after.look[i], before.look[i], `character ${i} (${ch})`);
  assert.ok(merged.length < plain.length * 0.5, `${merged.length} vs ${plain.length}`);
});
