import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { mdxToJs } from 'satteri';
import { knownComponentsPlugin } from '../../src/content/known-components-plugin.ts';

const root = '/project';
const lessonFile = pathToFileURL('/project/content/lessons/en/01-why-async.mdx');
const compile = (source: string, fileURL = lessonFile) =>
  mdxToJs(source, {
    fileURL,
    mdastPlugins: [knownComponentsPlugin({ allowed: ['Callout'], root, appliesTo: (f) => f.includes('/content/lessons/') })],
  });

test('known components and plain HTML pass', () => {
  assert.doesNotThrow(() => compile('# Hi\n\n<Callout type="tip">\n\nText <kbd>Ctrl</kbd>\n\n</Callout>\n'));
});

test('an unknown component fails naming file, line and tag', () => {
  assert.throws(
    () => compile('# Hi\n\nSome text.\n\n<Sandbox id="gather" />\n'),
    (err: Error) => {
      assert.match(err.message, /content\/lessons\/en\/01-why-async\.mdx:5:1 component <Sandbox> is unknown/);
      assert.match(err.message, /lessons may use: Callout/);
      return true;
    },
  );
});

test('an unknown inline component and an import are both reported', () => {
  assert.throws(
    () => compile("import X from './x.astro';\n\nText <Badge>new</Badge>.\n"),
    (err: Error) => {
      const lines = err.message.split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, /:1:1 import\/export is not allowed/);
      assert.match(lines[1]!, /:3:6 component <Badge> is unknown/);
      return true;
    },
  );
});

test('files outside the lessons folder are not checked', () => {
  assert.doesNotThrow(() => compile('<Anything />\n', pathToFileURL('/project/src/pages/about.mdx')));
});

test('a <Sandbox> must name a sandbox that exists', () => {
  const withSandboxes = (source: string) =>
    mdxToJs(source, {
      fileURL: lessonFile,
      mdastPlugins: [knownComponentsPlugin({ allowed: ['Callout', 'Sandbox'], root, sandboxExists: (id) => id === 'gather' })],
    });
  assert.doesNotThrow(() => withSandboxes('Text\n\n<Sandbox id="gather" />\n'));
  assert.throws(() => withSandboxes('Text\n\n<Sandbox id="gahter" />\n'), /01-why-async\.mdx:3:1 <Sandbox id="gahter">: there is no sandboxes\/gahter\/sandbox\.json/);
  assert.throws(() => withSandboxes('<Sandbox />\n'), /:1:1 <Sandbox> needs id=/);
});
