/**
 * Entry of the sandbox client: builds the page's engines once and starts a view for
 * every <Sandbox>. Monaco is not part of this bundle; views import it on first edit.
 */
import { chooseEngine, type Engine } from '../../sandbox/engines/engine.ts';
import { LocalEngine } from '../../sandbox/engines/local.ts';
import { RunnerClient } from '../../sandbox/engines/runner-client.ts';
import { runnerMetaName } from '../../server/runner-meta.ts';
import { SandboxView } from './view.ts';

let engines: Engine[] | undefined;

const runnerUrl = (token: string) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/__runner?token=${encodeURIComponent(token)}`;

/** After `npm start` restarts, the runner has a new token: read it from a fresh copy of this page. */
async function freshRunnerUrl(): Promise<string | undefined> {
  const html = await (await fetch(location.href, { cache: 'no-store' })).text();
  const meta = new DOMParser().parseFromString(html, 'text/html').querySelector<HTMLMetaElement>(`meta[name="${runnerMetaName}"]`);
  return meta?.content ? runnerUrl(meta.content) : undefined;
}

/** The page's engines in order of preference (local first); built once per page. */
function pageEngines(): Engine[] {
  if (engines) return engines;
  const meta = document.querySelector<HTMLMetaElement>(`meta[name="${runnerMetaName}"]`);
  const token = meta?.content;
  const client = token ? new RunnerClient({ url: runnerUrl(token), refreshUrl: freshRunnerUrl }) : undefined;
  const unavailable = meta?.dataset.unavailable ?? (meta ? undefined : 'this page is served without the local runner (run `npm start`)');
  engines = [new LocalEngine({ client, ...(unavailable ? { unavailable } : {}) })];
  return engines;
}

export function initSandboxes(): void {
  for (const root of document.querySelectorAll<HTMLElement>('[data-sandbox]')) {
    if (root.dataset.wired) continue;
    root.dataset.wired = 'true';
    const view = new SandboxView(root);
    const choice = chooseEngine(view.manifest, pageEngines());
    view.start(choice.engine, choice.rejected.map((r) => r.detail).join('; '));
  }
}
