/**
 * Monaco, loaded only when a reader starts editing (it is several hundred kB). Only the
 * editor core and a few everyday contributions are bundled; syntax colours come from
 * Shiki's TextMate grammars and the same GitHub themes as the static code (@shikijs/monaco),
 * so swapping the static block for the editor changes nothing the eye can see.
 */
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/editor/contrib/find/browser/findController.js';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching.js';
import 'monaco-editor/editor/contrib/comment/browser/comment.js';
import 'monaco-editor/editor/contrib/linesOperations/browser/linesOperations.js';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard.js';
import 'monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter.js';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import { shikiToMonaco } from '@shikijs/monaco';
import { createHighlighterCore } from 'shiki/core';
import { createJavaScriptRegexEngine } from 'shiki/engine/javascript';
import { codeThemes } from '../../styles/code-themes.ts';
import monacoCssUrl from 'virtual:monaco-css-url';

export type EditorLanguage = 'python' | 'javascript' | 'typescript' | 'plaintext';

export interface MountOptions {
  /** The static code block the editor replaces (its box and font are copied). */
  replaces: HTMLElement;
  value: string;
  language: EditorLanguage;
  label: string;
  onChange(value: string): void;
  onRun(): void;
}

export interface MountedEditor {
  getValue(): string;
  setValue(value: string): void;
  focus(): void;
}

// In a build, Monaco's CSS is a separate file (src/tools/vite-lazy-monaco-css.ts) linked
// now, when the editor is first needed; in dev, Vite injects it with the modules.
if (monacoCssUrl) {
  await new Promise<void>((resolve, reject) => {
    const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: monacoCssUrl });
    link.onload = () => resolve();
    link.onerror = () => reject(new Error('could not load the editor stylesheet'));
    document.head.append(link);
  });
}

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
};

const highlighter = await createHighlighterCore({
  themes: [import('shiki/themes/github-light-default.mjs'), import('shiki/themes/github-dark-default.mjs')],
  langs: [import('shiki/langs/python.mjs'), import('shiki/langs/javascript.mjs'), import('shiki/langs/typescript.mjs')],
  engine: createJavaScriptRegexEngine(),
});
for (const id of ['python', 'javascript', 'typescript']) monaco.languages.register({ id });
shikiToMonaco(highlighter, monaco as never);

function currentTheme(): string {
  const chosen = document.documentElement.dataset.theme;
  const dark = chosen ? chosen === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  return dark ? codeThemes.dark : codeThemes.light;
}

// One theme for every editor on the page, following the site's toggle and the system.
const applyTheme = () => monaco.editor.setTheme(currentTheme());
new MutationObserver(applyTheme).observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);

export function mountEditor(options: MountOptions): MountedEditor {
  const { replaces } = options;
  const style = getComputedStyle(replaces);
  const container = document.createElement('div');
  container.className = 'sandbox-editor';
  container.style.height = `${replaces.offsetHeight}px`; // same box: nothing below moves
  replaces.after(container);
  const fontSize = Number.parseFloat(style.fontSize);
  const editor = monaco.editor.create(container, {
    value: options.value,
    language: options.language,
    theme: currentTheme(),
    ariaLabel: options.label,
    fontFamily: style.fontFamily,
    fontSize,
    lineHeight: Number.parseFloat(style.lineHeight) || fontSize * 1.6,
    padding: { top: Number.parseFloat(style.paddingTop), bottom: Number.parseFloat(style.paddingBottom) },
    // Numbered, to match the line numbers tracebacks name. The gutter takes width from the code, so
    // nothing scrolls past the last column (the static block does not either): a line that fitted
    // there still fits here, and no horizontal scrollbar changes the box's height.
    lineNumbers: 'on',
    lineNumbersMinChars: 2,
    scrollBeyondLastColumn: 0,
    glyphMargin: false,
    folding: false,
    lineDecorationsWidth: Number.parseFloat(style.paddingLeft),
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    scrollbar: { alwaysConsumeMouseWheel: false },
    renderLineHighlight: 'none',
    overviewRulerLanes: 0,
    automaticLayout: true,
    tabSize: 4,
    insertSpaces: true,
  });
  replaces.hidden = true;
  // Grow with the code instead of scrolling inside a fixed box.
  const fit = () => {
    container.style.height = `${Math.max(editor.getContentHeight(), 3 * fontSize * 1.6)}px`;
  };
  editor.onDidContentSizeChange(fit);
  fit();
  editor.onDidChangeModelContent(() => options.onChange(editor.getValue()));
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => options.onRun());
  return {
    getValue: () => editor.getValue(),
    setValue: (value) => editor.setValue(value),
    focus: () => editor.focus(),
  };
}
