/**
 * Monaco, loaded only when a reader starts editing (it is several hundred kB). Only the
 * editor core and a few everyday contributions are bundled; syntax colours come from
 * Shiki's TextMate grammars and the same GitHub themes as the static code (@shikijs/monaco),
 * so swapping the static block for the editor changes nothing the eye can see.
 */
import * as monaco from 'monaco-editor/editor/editor.api.js';
// The codicon font: the find widget's buttons and the diff's + and − are glyphs in it.
import 'monaco-editor/features/codicon/register.js';
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
  /** How to leave the editor, shown and announced while it has focus; {toggle} is filled in. */
  hint?: { leave: string; tabMoves: string };
  /** Where the hint goes (laid over it by CSS); by default right after the editor. */
  hintHost?: HTMLElement | null;
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

// "Tab moves focus" (Monaco's tab focus mode), page-wide as in Monaco itself: Ctrl+M
// (Ctrl+Shift+M on a Mac, where ⌘M minimises the window) turns it on and off.
const isMac = /Mac|iPhone|iPad/.test(navigator.platform);
const toggleKeys = isMac ? 'Ctrl+Shift+M' : 'Ctrl+M';
const toggleChord = isMac ? monaco.KeyMod.WinCtrl | monaco.KeyMod.Shift | monaco.KeyCode.KeyM : monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyM;
let tabMovesFocus = false;
const followers = new Set<() => void>();
function setTabMovesFocus(on: boolean): void {
  tabMovesFocus = on;
  for (const follow of followers) follow();
}

const focusable = 'a[href], button, input, select, textarea, summary, iframe, [tabindex], [contenteditable="true"], [contenteditable=""]';

/** The control sequential focus navigation would reach from `from` (outside it), forwards or backwards. */
function neighbour(from: HTMLElement, backwards: boolean): HTMLElement | undefined {
  const candidates = [...document.querySelectorAll<HTMLElement>(focusable)].filter(
    (el) =>
      !from.contains(el) &&
      el.tabIndex >= 0 &&
      !(el as HTMLButtonElement).disabled &&
      !el.closest('[inert], [hidden]') &&
      el.getClientRects().length > 0 &&
      getComputedStyle(el).visibility !== 'hidden',
  );
  const after = (el: HTMLElement) => (from.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  return backwards ? candidates.filter((el) => !after(el)).at(-1) : candidates.find(after);
}

/**
 * The way out of the editor (WCAG 2.1.2): Escape, then Tab or Shift+Tab, moves focus to the
 * next or previous control; any other key in between cancels it, so Tab alone still indents.
 * Listening in the capture phase on the editor's box runs before Monaco's own key handling.
 */
function wireEscapeThenTab(container: HTMLElement): void {
  let armed = false;
  container.addEventListener(
    'keydown',
    (event) => {
      if (event.key === 'Escape') {
        armed = true;
        return;
      }
      if (['Shift', 'Control', 'Alt', 'Meta'].includes(event.key)) return;
      const leave = armed && event.key === 'Tab' && !event.ctrlKey && !event.altKey && !event.metaKey;
      armed = false;
      if (!leave) return;
      event.preventDefault();
      event.stopPropagation();
      neighbour(container, event.shiftKey)?.focus();
    },
    true,
  );
  container.addEventListener('focusout', () => (armed = false));
}

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
  editor.addCommand(toggleChord, () => setTabMovesFocus(!tabMovesFocus));
  wireEscapeThenTab(container);

  // The hint: a polite live region (over the sandbox's header), filled while the editor has
  // focus (so a screen reader hears it on entry and when Tab's role changes), empty otherwise.
  const hint = document.createElement('p');
  hint.className = 'sandbox-editor-hint';
  hint.setAttribute('role', 'status');
  if (options.hintHost) options.hintHost.append(hint);
  else container.after(hint);
  let focused = false;
  const showHint = () => {
    const text = options.hint ? (tabMovesFocus ? options.hint.tabMoves : options.hint.leave).replace('{toggle}', toggleKeys) : '';
    hint.textContent = focused ? text : '';
  };
  const follow = () => {
    editor.updateOptions({ tabFocusMode: tabMovesFocus });
    showHint();
  };
  followers.add(follow);
  if (tabMovesFocus) follow();
  editor.onDidFocusEditorText(() => {
    focused = true;
    showHint();
  });
  editor.onDidBlurEditorText(() => {
    focused = false;
    showHint();
  });
  return {
    getValue: () => editor.getValue(),
    setValue: (value) => editor.setValue(value),
    focus: () => editor.focus(),
  };
}

export interface MountedDiff {
  dispose(): void;
}

/**
 * A read-only side-by-side comparison (a challenge's "Show solution"): the reader's code on
 * the left, the solution on the right, in the page's code theme. Inline on narrow boxes.
 */
export function mountDiff(container: HTMLElement, options: { original: string; modified: string; language: EditorLanguage; label: string }): MountedDiff {
  const original = monaco.editor.createModel(options.original, options.language);
  const modified = monaco.editor.createModel(options.modified, options.language);
  const diff = monaco.editor.createDiffEditor(container, {
    theme: currentTheme(),
    readOnly: true,
    originalEditable: false,
    // Nothing to edit, so no cursor line: its tint would put the code's comments under 4.5:1.
    renderLineHighlight: 'none',
    automaticLayout: true,
    renderSideBySide: container.clientWidth >= 640,
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    scrollbar: { alwaysConsumeMouseWheel: false },
    ariaLabel: options.label,
    originalAriaLabel: options.label,
  });
  diff.setModel({ original, modified });
  // Each side is a text box of its own: both named, for screen readers (and axe).
  diff.getOriginalEditor().updateOptions({ ariaLabel: `${options.label} (1/2)` });
  diff.getModifiedEditor().updateOptions({ ariaLabel: `${options.label} (2/2)` });
  // Tall enough for the longer side, like the editors: the page scrolls, not the box.
  const fit = () => {
    const height = Math.max(diff.getOriginalEditor().getContentHeight(), diff.getModifiedEditor().getContentHeight());
    container.style.height = `${Math.min(Math.max(height, 120), 900)}px`;
  };
  diff.getModifiedEditor().onDidContentSizeChange(fit);
  diff.getOriginalEditor().onDidContentSizeChange(fit);
  fit();
  wireEscapeThenTab(container);
  return {
    dispose: () => {
      diff.dispose();
      original.dispose();
      modified.dispose();
    },
  };
}
