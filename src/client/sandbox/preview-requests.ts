/**
 * The request panel of the live preview: method, path, an optional JSON body, Send; shows the
 * status and time, the headers and the body, as text.
 */
import type { PreviewAccess } from '../../engines/engine.ts';
import type { PreviewStrings } from '../../i18n/ui.ts';
import { el, field, fill } from './preview-dom.ts';
import { previewFetch, refusedBy } from './preview-net.ts';

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const shownBodyChars = 64 * 1024;

export interface PreviewPart {
  element: HTMLElement;
  /** The server is gone: stop what is going on and disable the controls. */
  end(): void;
}

export function mountRequests(access: PreviewAccess, paths: string[], t: PreviewStrings, uid: string): PreviewPart {
  const method = el('select', { name: 'method' }, ...methods.map((m) => el('option', { value: m }, m)));
  const listId = `${uid}-paths`;
  const path = el('input', { type: 'text', name: 'path', value: paths[0] ?? '/', list: listId, spellcheck: 'false', autocomplete: 'off', required: true });
  const list = el('datalist', { id: listId }, ...paths.map((p) => el('option', { value: p })));
  const body = el('textarea', { name: 'body', rows: '2', spellcheck: 'false', placeholder: '{"key": "value"}' });
  const send = el('button', { type: 'submit' }, t.send);
  const status = el('p', { class: 'preview-state', role: 'status', 'aria-live': 'polite', 'data-preview-status': true });
  const headersSummary = el('summary');
  const headers = el('details', { class: 'preview-headers', hidden: true }, headersSummary, el('pre'));
  const answer = el('pre', { class: 'preview-body', 'data-preview-body': true, hidden: true, tabindex: '0' });
  const form = el(
    'form',
    { class: 'preview-form' },
    field(t.requests.method, method),
    field(t.path, path, 'preview-field preview-grow'),
    list,
    field(t.requests.body, body, 'preview-field preview-wide'),
    send,
  );
  const titleId = `${uid}-requests`;
  const element = el('section', { class: 'preview-part', 'aria-labelledby': titleId, 'data-preview-part': 'requests' }, el('p', { class: 'preview-heading', id: titleId }, t.requests.title), form, status, headers, answer);

  let controller: AbortController | undefined;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });

  async function submit(): Promise<void> {
    const text = body.value.trim();
    if (text) {
      try {
        JSON.parse(text);
      } catch (err) {
        status.textContent = fill(t.requests.badJson, { detail: (err as Error).message });
        return;
      }
    }
    controller?.abort();
    const mine = (controller = new AbortController());
    status.textContent = t.requests.sending;
    headers.hidden = answer.hidden = true;
    const started = performance.now();
    try {
      const response = await previewFetch(access, path.value.trim() || '/', {
        method: method.value,
        signal: mine.signal,
        ...(text ? { body: text, headers: { 'Content-Type': 'application/json' } } : {}),
      });
      const content = await response.text();
      if (mine !== controller) return;
      const ms = Math.round(performance.now() - started);
      if (response.type === 'opaqueredirect') {
        status.textContent = t.requests.redirect;
        return;
      }
      const refused = refusedBy(response);
      if (refused) {
        status.textContent = refused === 'ended' ? t.refused.ended : fill(t.refused.other, { status: response.status, detail: content.trim() });
        return;
      }
      status.textContent = fill(t.requests.answered, { status: `${response.status} ${response.statusText}`.trim(), ms });
      const lines = [...response.headers].map(([name, value]) => `${name}: ${value}`);
      headersSummary.textContent = fill(t.requests.headers, { n: lines.length });
      headers.querySelector('pre')!.textContent = lines.join('\n');
      headers.hidden = false;
      answer.textContent = content ? content.slice(0, shownBodyChars) : t.requests.empty;
      answer.hidden = false;
    } catch (err) {
      if (mine === controller && !mine.signal.aborted) status.textContent = fill(t.requests.failed, { detail: (err as Error).message });
    }
  }

  return {
    element,
    end() {
      controller?.abort();
      for (const control of [method, path, body, send]) control.disabled = true;
    },
  };
}
