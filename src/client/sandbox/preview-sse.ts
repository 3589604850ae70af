/**
 * The SSE viewer of the live preview: connects to a path, lists each event as it arrives
 * (parsed from the stream by the page, since EventSource cannot send the runner's token),
 * and disconnects on request — the server sees its client leave.
 */
import type { PreviewAccess } from '../../engines/engine.ts';
import type { PreviewStrings } from '../../i18n/ui.ts';
import { el, field, fill, logLine } from './preview-dom.ts';
import { eventStreamParser, previewFetch, refusedBy } from './preview-net.ts';
import type { PreviewPart } from './preview-requests.ts';

export function mountSse(access: PreviewAccess, initialPath: string, t: PreviewStrings, uid: string): PreviewPart {
  const path = el('input', { type: 'text', name: 'path', value: initialPath, spellcheck: 'false', autocomplete: 'off' });
  const connect = el('button', { type: 'button', 'data-action': 'connect' }, t.connect);
  const disconnect = el('button', { type: 'button', 'data-action': 'disconnect', disabled: true }, t.disconnect);
  const status = el('p', { class: 'preview-state', role: 'status', 'aria-live': 'polite', 'data-preview-status': true });
  const events = el('ol', { class: 'preview-log', role: 'log', 'aria-live': 'polite', 'aria-label': t.sse.events, tabindex: '0', 'data-preview-events': true });
  const titleId = `${uid}-sse`;
  const element = el(
    'section',
    { class: 'preview-part', 'aria-labelledby': titleId, 'data-preview-part': 'sse' },
    el('p', { class: 'preview-heading', id: titleId }, t.sse.title),
    el('div', { class: 'preview-form' }, field(t.path, path, 'preview-field preview-grow'), connect, disconnect),
    status,
    events,
  );

  let controller: AbortController | undefined;
  let ended = false;
  const idle = () => {
    connect.disabled = ended;
    disconnect.disabled = true;
    path.disabled = ended;
  };

  connect.addEventListener('click', () => void open());
  disconnect.addEventListener('click', () => controller?.abort());

  async function open(): Promise<void> {
    const mine = (controller = new AbortController());
    events.replaceChildren();
    connect.disabled = path.disabled = true;
    disconnect.disabled = false;
    status.textContent = t.sse.connecting;
    let count = 0;
    try {
      const response = await previewFetch(access, path.value.trim() || '/', { signal: mine.signal, headers: { Accept: 'text/event-stream' } });
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !type.startsWith('text/event-stream') || !response.body) {
        const detail = (await response.text().catch(() => '')).trim().slice(0, 300);
        const refused = refusedBy(response);
        status.textContent =
          refused === 'ended' ? t.refused.ended : refused ? fill(t.refused.other, { status: response.status, detail }) : fill(t.sse.notStream, { status: response.status || '', detail: detail || type });
        return;
      }
      status.textContent = t.sse.open;
      const feed = eventStreamParser((event) => {
        count += 1;
        const label = [event.event !== 'message' ? event.event : '', event.id !== undefined ? `#${event.id}` : ''].filter(Boolean).join(' ');
        logLine(events, label ? `${label}: ${event.data}` : event.data);
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed(value);
      }
      status.textContent = fill(t.sse.ended, { n: count });
    } catch {
      if (mine === controller) status.textContent = ended ? t.ended : fill(t.sse.closed, { n: count });
    } finally {
      if (mine === controller) idle();
    }
  }

  return {
    element,
    end() {
      ended = true;
      controller?.abort();
      idle();
      if (status.textContent) status.textContent = t.ended; // the viewer was used: say why it stopped

    },
  };
}
