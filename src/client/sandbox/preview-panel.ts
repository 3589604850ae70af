/**
 * The live preview of a server sandbox (README "Live preview"), loaded only when a run on the
 * local engine says its server is ready with a preview: the panels its manifest names — a
 * request panel, an SSE viewer, a two-client WebSocket chat — talking to that run's server
 * through the runner's proxy until the run ends.
 */
import type { PreviewAccess } from '../../engines/engine.ts';
import type { SandboxPreview } from '../../protocol/manifest.ts';
import type { PreviewStrings } from '../../i18n/ui.ts';
import { mountChat } from './preview-chat.ts';
import { el, fill } from './preview-dom.ts';
import { mountRequests, type PreviewPart } from './preview-requests.ts';
import { mountSse } from './preview-sse.ts';

export interface MountedPreview {
  element: HTMLElement;
  /** The run ended: close everything, disable the controls, say so. */
  end(): void;
}

export function mountPreview(access: PreviewAccess, config: SandboxPreview, t: PreviewStrings, uid: string): MountedPreview {
  const parts: PreviewPart[] = [];
  if (config.requests) parts.push(mountRequests(access, config.requests, t, uid));
  if (config.sse) parts.push(mountSse(access, config.sse, t, uid));
  if (config.websocket) {
    const ws = typeof config.websocket === 'string' ? { path: config.websocket } : config.websocket;
    parts.push(mountChat(access, ws, t, uid));
  }
  const note = el('p', { class: 'preview-note', 'data-preview-note': true }, fill(t.note, { s: Math.round((access.limitMs ?? 120_000) / 1000) }));
  const titleId = `${uid}-preview`;
  const element = el(
    'section',
    { class: 'preview', 'aria-labelledby': titleId, 'data-preview': 'open' },
    el('p', { class: 'preview-title', id: titleId }, t.title),
    note,
    ...parts.map((p) => p.element),
  );
  return {
    element,
    end() {
      for (const part of parts) part.end();
      note.textContent = t.ended;
      element.dataset.preview = 'ended';
    },
  };
}
