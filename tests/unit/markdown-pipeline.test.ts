import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownToHtml, mdxToJs } from 'satteri';
import { markdownFeatures } from '../../src/content/markdown-features.ts';
import { searchIndexPlugin } from '../../src/content/search-index-plugin.ts';

// The lesson pipeline's own settings, through the real Sätteri compiler.
const render = (source: string) => markdownToHtml(source, { features: markdownFeatures, hastPlugins: [searchIndexPlugin()] }).html;

test('command-line flags keep both hyphens in headings, prose and code (no en dash)', () => {
  const html = render('## uvicorn --workers and gunicorn\n\n## `uvicorn --workers` and more\n\nRun it with --reload, or `gunicorn --bind x`.\n');
  assert.match(html, /<h2>uvicorn --workers and gunicorn<\/h2>/);
  assert.match(html, /<h2><code>uvicorn --workers<\/code> and more<\/h2>/);
  assert.match(html, /with --reload/);
  assert.doesNotMatch(html, /–/);
});

test('quotes and ellipses are still typeset in prose, never in code', () => {
  const html = render('He said "wait"... then `print("x")...`\n');
  assert.match(html, /“wait”…/);
  assert.match(html, /<code>print\("x"\)\.\.\.<\/code>/);
});

test('MDX lessons get the same: no en dash from --', () => {
  const { code } = mdxToJs('## uvicorn --workers\n', { features: markdownFeatures });
  assert.match(code, /uvicorn --workers/);
  assert.doesNotMatch(code, /–/);
});

test('```text blocks (program output) are left out of the search index; other code stays in', () => {
  const html = render('```text\n859 ms\n```\n\n```python\nprint(1)\n```\n');
  assert.match(html, /<pre[^>]*data-pagefind-ignore[^>]*><code class="language-text">859 ms/);
  assert.match(html, /<pre><code class="language-python">/);
});
