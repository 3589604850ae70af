/**
 * The light editor for touch and narrow screens: Monaco is megabytes of script and weak
 * under a thumb, so phones get a plain <textarea> with the same code, the same saved
 * edits and the same Run (Ctrl/⌘+Enter on a keyboard). It grows with its content, so the
 * page scrolls, not the box.
 */
import type { MountOptions, MountedEditor } from './editor.ts';

/** Touch-first or narrow: where the textarea serves the reader better than Monaco. */
export function prefersLightEditor(): boolean {
  return matchMedia('(pointer: coarse)').matches || matchMedia('(max-width: 40rem)').matches;
}

export function mountTextarea(options: Omit<MountOptions, 'language'>): MountedEditor {
  const { replaces } = options;
  const textarea = document.createElement('textarea');
  textarea.className = 'sandbox-textarea';
  textarea.value = options.value;
  textarea.spellcheck = false;
  textarea.setAttribute('autocapitalize', 'off');
  textarea.setAttribute('autocomplete', 'off');
  textarea.setAttribute('autocorrect', 'off');
  textarea.setAttribute('aria-label', options.label);
  textarea.wrap = 'off';
  const fit = () => {
    textarea.style.height = 'auto';
    textarea.style.height = `${Math.max(textarea.scrollHeight, replaces.offsetHeight)}px`;
  };
  textarea.addEventListener('input', () => {
    fit();
    options.onChange(textarea.value);
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      options.onRun();
    }
  });
  replaces.after(textarea);
  const height = replaces.offsetHeight;
  replaces.hidden = true;
  textarea.style.height = `${height}px`;
  fit();
  return {
    getValue: () => textarea.value,
    setValue: (value) => {
      textarea.value = value;
      fit();
    },
    focus: () => textarea.focus({ preventScroll: true }),
  };
}
