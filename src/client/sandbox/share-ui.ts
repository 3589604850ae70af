/**
 * "Share" and the opening of a shared link, for one sandbox view (issue 19). Loaded only on
 * a click of Share or when the page's address carries `#share=`: the codec and these words
 * are no part of the sandbox client until then. Shared code is shown in the editors as text
 * and runs only when the reader presses Run; it never replaces the reader's saved edits
 * without asking.
 */
import { challengeStrings } from '../../i18n/challenge-strings.ts';
import type { SandboxFiles } from '../../protocol/manifest.ts';
import { decodeShare, shareHash, ShareLinkError, shareValue } from '../share-link.ts';

export interface ShareHost {
  sandboxId: string;
  lang: 'en' | 'zh';
  root: HTMLElement;
  /** The reader's changed files (only those that differ from the lesson's). */
  changedFiles(): Promise<SandboxFiles>;
  original(): Promise<SandboxFiles>;
  /** Whether the reader has saved edits of their own. */
  hasOwnEdits(): boolean;
  /** Shows these files without saving them as the reader's edits. */
  showShared(files: SandboxFiles): Promise<void>;
  /** Back to the lesson's code (the Reset of the toolbar). */
  restore(): void;
}

const note = (host: ShareHost): HTMLElement => {
  let p = host.root.querySelector<HTMLElement>('[data-share-note]');
  if (!p) {
    p = Object.assign(document.createElement('div'), { className: 'sandbox-share-note' });
    p.dataset.shareNote = '';
    p.setAttribute('role', 'status');
    host.root.querySelector('.sandbox-toolbar')!.after(p);
  }
  return p;
};

export async function share(host: ShareHost): Promise<void> {
  const t = challengeStrings[host.lang];
  const out = note(host);
  const files = await host.changedFiles();
  if (!Object.keys(files).length) {
    out.replaceChildren(t.shareNothing);
    return;
  }
  let url: string;
  try {
    url = `${location.origin}${location.pathname}${await shareHash({ sandbox: host.sandboxId, files })}`;
  } catch (err) {
    out.replaceChildren(err instanceof ShareLinkError ? t.shareErrors[err.code] : (err as Error).message);
    return;
  }
  try {
    await navigator.clipboard.writeText(url);
    out.replaceChildren(t.shareCopied);
    out.dataset.shareUrl = url;
  } catch {
    // No clipboard (permission, insecure origin): the link to copy by hand, selected.
    const input = Object.assign(document.createElement('input'), { type: 'text', readOnly: true, value: url, className: 'sandbox-share-url' });
    input.setAttribute('aria-label', t.shareManual);
    out.replaceChildren(Object.assign(document.createElement('span'), { textContent: t.shareManual }), input);
    input.select();
  }
}

/** The address carries shared code for this sandbox: load it, asking first if the reader has edits. */
export async function openShared(host: ShareHost): Promise<void> {
  const value = shareValue(location.hash);
  if (value === undefined) return;
  const t = challengeStrings[host.lang];
  let files: SandboxFiles;
  try {
    const original = await host.original();
    files = (await decodeShare(value, { sandboxId: host.sandboxId, paths: Object.keys(original) })).files;
  } catch (err) {
    // A link for another sandbox of the page is that sandbox's business.
    if (err instanceof ShareLinkError && err.code === 'other-sandbox') return;
    banner(host, err instanceof ShareLinkError ? t.shareErrors[err.code] : (err as Error).message, []);
    return;
  }
  const load = async () => {
    await host.showShared(files);
    const restore = button(t.restore, 'restore-lesson', () => {
      host.restore();
      history.replaceState(null, '', location.pathname + location.search);
      remove(host);
    });
    banner(host, t.sharedBanner, [restore]);
    host.root.dataset.shared = 'true';
  };
  if (!host.hasOwnEdits()) return load();
  banner(host, t.sharedOverwrite, [button(t.loadShared, 'load-shared', () => void load()), button(t.keepMine, 'keep-mine', () => remove(host))]);
}

function button(text: string, action: string, onClick: () => void): HTMLButtonElement {
  const b = Object.assign(document.createElement('button'), { type: 'button', className: 'sandbox-secondary', textContent: text });
  b.dataset.action = action;
  b.addEventListener('click', onClick);
  return b;
}

function remove(host: ShareHost): void {
  host.root.querySelector('[data-share-banner]')?.remove();
  delete host.root.dataset.shared;
}

function banner(host: ShareHost, text: string, actions: HTMLButtonElement[]): void {
  remove(host);
  const box = Object.assign(document.createElement('div'), { className: 'sandbox-share-banner' });
  box.dataset.shareBanner = '';
  box.setAttribute('role', 'status');
  box.append(Object.assign(document.createElement('p'), { textContent: text }), ...actions);
  host.root.querySelector('.sandbox-header')!.after(box);
}
