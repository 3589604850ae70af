/**
 * Entry of the sandbox client: builds the page's engines once and starts a view for
 * every <Sandbox>. Engines are asked in a fixed order — the local runner if this page
 * has one, the hosted runner if the build named one (PUBLIC_RUNNER_URL), then the
 * in-browser engine for the sandbox's language — so the choice is deterministic; the
 * reader may switch to another engine that can run it. Neither
 * Monaco nor any in-browser runtime is part of this bundle: they load on first use.
 */
import { pyodideAssetsUrl, pyodideLockInfo } from 'virtual:pyodide-assets';
import { chooseEngine, pageEngineOrder, type Engine } from '../../engines/engine.ts';
import { LocalEngine } from '../../engines/local.ts';
import { PyodideEngine } from '../../engines/pyodide.ts';
import { RemoteEngine } from '../../engines/remote.ts';
import { parseRunnerUrl } from '../../engines/remote-url.ts';
import { RunnerClient } from '../../engines/runner-client.ts';
import { containerSupport, WebContainerEngine } from '../../engines/webcontainer.ts';
import { webContainerApi } from '../../engines/webcontainer-api.ts';
import { runnerMetaName } from '../../protocol/runner-meta.ts';
import { prewarmOnApproach } from './prewarm.ts';
import { SandboxView } from './view.ts';
import { whyNoEngine } from './why-not.ts';

interface PageEngines {
  engines: Engine[];
  /** The runner's complaint when this page has one that cannot run (isolation missing…). */
  localProblem: string | undefined;
}

let page: PageEngines | undefined;

const runnerUrl = (token: string) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/__runner?token=${encodeURIComponent(token)}`;

/** After `npm start` restarts, the runner has a new token: read it from a fresh copy of this page. */
async function freshRunnerUrl(): Promise<string | undefined> {
  const html = await (await fetch(location.href, { cache: 'no-store' })).text();
  const meta = new DOMParser().parseFromString(html, 'text/html').querySelector<HTMLMetaElement>(`meta[name="${runnerMetaName}"]`);
  return meta?.content ? runnerUrl(meta.content) : undefined;
}

/** The hosted runner the build baked in (checked then, src/tools/public-runner-url.ts), if any. */
function hostedRunner(): RemoteEngine | undefined {
  const configured = import.meta.env.PUBLIC_RUNNER_URL as string | undefined;
  // A constant after the build: without a hosted runner the rest is dropped from the bundle.
  if (!configured) return undefined;
  let url: string | undefined;
  try {
    url = parseRunnerUrl(configured);
  } catch {
    return undefined; // the build refuses a bad URL; this only guards a hand-edited bundle
  }
  if (!url) return undefined;
  const remote = new RemoteEngine({ url });
  addEventListener('pagehide', () => remote.dispose());
  return remote;
}

/** The page's engines in order of preference; built once per page. */
function pageEngines(): PageEngines {
  if (page) return page;
  // `npm start` puts the runner's token in every page it serves; a static host has no such tag.
  const meta = document.querySelector<HTMLMetaElement>(`meta[name="${runnerMetaName}"]`);
  const token = meta?.content;
  const client = token ? new RunnerClient({ url: runnerUrl(token), refreshUrl: freshRunnerUrl }) : undefined;
  const localProblem = meta?.dataset.unavailable;
  const webcontainer = new WebContainerEngine({
    api: webContainerApi(import.meta.env.PUBLIC_WEBCONTAINER_API_KEY as string | undefined),
    unavailable: containerSupport(globalThis),
  });
  addEventListener('pagehide', () => void webcontainer.dispose());
  const remote = hostedRunner();
  page = {
    engines: pageEngineOrder({
      local: new LocalEngine({ client, unavailable: localProblem ?? 'this page is served without the local runner' }),
      remote,
      pyodide: new PyodideEngine({ assetsUrl: pyodideAssetsUrl, lockInfo: pyodideLockInfo }),
      webcontainer,
    }),
    localProblem,
  };
  return page;
}

export function initSandboxes(): void {
  const { engines, localProblem } = pageEngines();
  for (const root of document.querySelectorAll<HTMLElement>('[data-sandbox]')) {
    if (root.dataset.wired) continue;
    root.dataset.wired = 'true';
    const view = new SandboxView(root);
    const { able, rejected } = chooseEngine(view.manifest, engines);
    view.start(able, able.length ? '' : whyNoEngine(view.manifest, rejected, view.strings, localProblem));
    prewarmOnApproach(root, able);
  }
}
