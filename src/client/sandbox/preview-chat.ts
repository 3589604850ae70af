/**
 * The two-client WebSocket chat of the live preview: panes "Client A" and "Client B", each
 * connecting to a path, sending messages and listing what it receives (as text).
 */
import type { PreviewAccess } from '../../engines/engine.ts';
import type { PreviewStrings } from '../../i18n/ui.ts';
import { el, field, fill, logLine } from './preview-dom.ts';
import { previewSocketUrl } from './preview-net.ts';
import type { PreviewPart } from './preview-requests.ts';

function mountClient(access: PreviewAccess, initialPath: string, message: string, name: string, key: string, t: PreviewStrings, uid: string): PreviewPart {
  const path = el('input', { type: 'text', name: 'path', value: initialPath, spellcheck: 'false', autocomplete: 'off' });
  const connect = el('button', { type: 'button', 'data-action': 'connect' }, t.connect);
  const disconnect = el('button', { type: 'button', 'data-action': 'disconnect', disabled: true }, t.disconnect);
  const text = el('input', { type: 'text', name: 'message', value: message, spellcheck: 'false', autocomplete: 'off', disabled: true });
  const send = el('button', { type: 'submit', disabled: true }, t.send);
  const form = el('form', { class: 'preview-form' }, field(t.chat.message, text, 'preview-field preview-grow'), send);
  const status = el('p', { class: 'preview-state', role: 'status', 'aria-live': 'polite', 'data-preview-status': true });
  const received = el('ol', { class: 'preview-log', role: 'log', 'aria-live': 'polite', 'aria-label': fill(t.chat.received, { client: name }), tabindex: '0', 'data-preview-messages': true });
  const titleId = `${uid}-client-${key}`;
  const element = el(
    'section',
    { class: 'preview-client', 'aria-labelledby': titleId, 'data-preview-client': key },
    el('p', { class: 'preview-heading', id: titleId }, name),
    el('div', { class: 'preview-form' }, field(t.path, path, 'preview-field preview-grow'), connect, disconnect),
    status,
    form,
    received,
  );

  let socket: WebSocket | undefined;
  let ended = false;
  const setOpen = (open: boolean) => {
    connect.disabled = path.disabled = open || ended;
    disconnect.disabled = !open;
    text.disabled = send.disabled = !open;
  };

  connect.addEventListener('click', () => {
    const ws = (socket = new WebSocket(previewSocketUrl(access, path.value.trim() || '/', location)));
    connect.disabled = path.disabled = true;
    status.textContent = t.chat.connecting;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      status.textContent = t.chat.open;
      setOpen(true);
      text.focus();
    };
    ws.onmessage = (event) => {
      const data = typeof event.data === 'string' ? event.data : `(${String((event.data as Blob).size ?? '')} bytes)`;
      logLine(received, `← ${data}`, 'preview-in');
    };
    ws.onclose = (event) => {
      if (socket === ws) socket = undefined;
      status.textContent = ended ? t.ended : opened ? fill(t.chat.closed, { code: event.code, reason: event.reason ? `: ${event.reason}` : '' }) : t.chat.failed;
      setOpen(false);
    };
  });
  disconnect.addEventListener('click', () => socket?.close(1000));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!socket || socket.readyState !== WebSocket.OPEN || !text.value) return;
    socket.send(text.value);
    logLine(received, `→ ${text.value}`, 'preview-out');
  });

  return {
    element,
    end() {
      ended = true;
      socket?.close();
      setOpen(false);
      status.textContent = t.ended; // the server went first: its close reached us as 1006
    },
  };
}

export function mountChat(access: PreviewAccess, config: { path: string; message?: string | undefined }, t: PreviewStrings, uid: string): PreviewPart {
  const clients = [mountClient(access, config.path, config.message ?? '', t.chat.a, 'a', t, uid), mountClient(access, config.path, config.message ?? '', t.chat.b, 'b', t, uid)];
  const titleId = `${uid}-chat`;
  const element = el(
    'section',
    { class: 'preview-part', 'aria-labelledby': titleId, 'data-preview-part': 'chat' },
    el('p', { class: 'preview-heading', id: titleId }, t.chat.title),
    el('p', { class: 'preview-intro' }, t.chat.intro),
    el('div', { class: 'preview-chat' }, ...clients.map((c) => c.element)),
  );
  return { element, end: () => clients.forEach((c) => c.end()) };
}
