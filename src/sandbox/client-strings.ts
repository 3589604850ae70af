/**
 * The words a lesson page's sandbox client needs (status lines, reasons, timeline labels),
 * with placeholders for the numbers it fills in. The same for every sandbox of a page, so the
 * page carries them once (`<script type="application/json" data-sandbox-strings>`), not once
 * per sandbox: six copies of them were a fifth of a long lesson's gzipped HTML.
 */
import type { Locale } from '../i18n/locales.ts';
import { useStrings } from '../i18n/ui.ts';

export function sandboxClientStrings(locale: Locale) {
  const t = useStrings(locale).sandbox;
  // Shown as static text by the component, never by the client.
  const { versions: _versions, versionsTitle: _title, ...sandboxStrings } = t;
  return {
    strings: {
      ...sandboxStrings,
      status: { ...t.status, queued: t.status.queued(0).replace('0', '{n}'), queuedRemote: t.status.queuedRemote(0).replace('0', '{n}'), exited: t.status.exited('{code}', '{s}'), exitCode: t.status.exitCode('{n}') },
      ranWith: t.ranWith('{engine}'),
      editorLabel: t.editorLabel('{file}'),
      unavailable: t.unavailable('{why}'),
      locale,
    },
    timeline: useStrings(locale).timeline,
  };
}

/** The JSON as a page embeds it (`<` escaped, so no text can close the script element). */
export const sandboxStringsJson = (locale: Locale) => JSON.stringify(sandboxClientStrings(locale)).replace(/</g, '\\u003c');
