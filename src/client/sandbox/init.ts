/**
 * Wires every <Sandbox> on the page: tabs, Run/Stop, Ctrl/⌘+Enter, status and console,
 * all driven by the engine chosen for it. Output is inserted as text, never as HTML.
 */
import { describeReason } from '../../runner/reasons.ts';
import { chooseEngine, type Engine, type EngineEvent } from '../../sandbox/engines/engine.ts';
import { LocalEngine } from '../../sandbox/engines/local.ts';
import { RunnerClient } from '../../sandbox/engines/runner-client.ts';
import type { SandboxFiles, SandboxManifest } from '../../sandbox/manifest.ts';

interface SandboxStrings {
  run: string;
  stop: string;
  consoleEmpty: string;
  status: { idle: string; connecting: string; queued: string; running: string; exited: string; exitCode: string };
  ranWith: string;
  engines: Record<string, string>;
  unreachable: string;
  unavailable: string;
  locale: 'en' | 'zh';
}

interface SandboxData {
  manifest: SandboxManifest;
  files: SandboxFiles;
  strings: SandboxStrings;
}

const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

let engines: Engine[] | undefined;

/** The page's engines in order of preference (local first); built once per page. */
function pageEngines(): Engine[] {
  if (engines) return engines;
  const meta = document.querySelector<HTMLMetaElement>('meta[name="asynclab-runner"]');
  const token = meta?.content;
  const client = token
    ? new RunnerClient({ url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/__runner?token=${encodeURIComponent(token)}` })
    : undefined;
  const unavailable = meta?.dataset.unavailable ?? (meta ? undefined : 'this page is served without the local runner (run `npm start`)');
  engines = [new LocalEngine({ client, ...(unavailable ? { unavailable } : {}) })];
  return engines;
}

export function initSandboxes(): void {
  for (const root of document.querySelectorAll<HTMLElement>('[data-sandbox]')) {
    if (root.dataset.wired) continue;
    root.dataset.wired = 'true';
    wire(root);
  }
}

function wire(root: HTMLElement): void {
  const data = JSON.parse(root.querySelector('[data-sandbox-data]')!.textContent!) as SandboxData;
  const { strings } = data;
  const runButton = root.querySelector<HTMLButtonElement>('[data-action="run"]')!;
  const stopButton = root.querySelector<HTMLButtonElement>('[data-action="stop"]')!;
  const status = root.querySelector<HTMLElement>('[data-status]')!;
  const consoleEl = root.querySelector<HTMLElement>('[data-console]')!;
  wireTabs(root);

  const choice = chooseEngine(data.manifest, pageEngines());
  if (!choice.engine) {
    const why = choice.rejected.map((r) => r.detail).join('; ');
    status.textContent = fill(strings.unavailable, { why });
    runButton.disabled = true;
    return;
  }
  const engine = choice.engine;
  runButton.disabled = false;
  let controller: AbortController | undefined;

  const append = (text: string, kind: 'stdout' | 'stderr' | 'note') => {
    const atBottom = consoleEl.scrollHeight - consoleEl.scrollTop - consoleEl.clientHeight < 24;
    const span = document.createElement('span');
    if (kind !== 'stdout') span.className = kind;
    span.textContent = text;
    consoleEl.append(span);
    if (atBottom) consoleEl.scrollTop = consoleEl.scrollHeight;
  };

  const onEvent = (event: EngineEvent) => {
    switch (event.type) {
      case 'status':
        status.textContent =
          event.state === 'queued' ? fill(strings.status.queued, { n: event.position ?? 1 }) : event.state === 'connecting' ? strings.status.connecting : strings.status.running;
        break;
      case 'stdout':
      case 'stderr':
        append(event.data, event.type);
        break;
      case 'exit': {
        const code = event.signal ?? fill(strings.status.exitCode, { n: String(event.code) });
        let line = fill(strings.status.exited, { code, s: (event.durationMs / 1000).toFixed(2) });
        if (event.reason) line += ` — ${describeReason(event.reason, strings.locale)}`;
        status.textContent = `${line} · ${fill(strings.ranWith, { engine: strings.engines[engine.id] ?? engine.id })}`;
        root.dataset.state = event.reason ? event.reason.code : 'exited';
        break;
      }
      case 'error':
        status.textContent = event.code === 'runner-unreachable' ? strings.unreachable : event.message;
        append(`${status.textContent}\n`, 'note');
        root.dataset.state = event.code;
        break;
      default:
        break;
    }
  };

  const run = async () => {
    if (controller) return;
    controller = new AbortController();
    consoleEl.textContent = '';
    root.dataset.state = 'running';
    runButton.disabled = true;
    stopButton.hidden = false;
    try {
      for await (const event of engine.run(data.files, data.manifest, controller.signal)) onEvent(event);
    } catch (err) {
      onEvent({ type: 'error', code: 'engine-failed', message: (err as Error).message });
    } finally {
      controller = undefined;
      runButton.disabled = false;
      stopButton.hidden = true;
    }
  };

  runButton.addEventListener('click', () => void run());
  stopButton.addEventListener('click', () => controller?.abort());
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void run();
    }
  });
}

function wireTabs(root: HTMLElement): void {
  const tabs = [...root.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
  const select = (chosen: HTMLButtonElement) => {
    for (const tab of tabs) {
      const on = tab === chosen;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      root.querySelector<HTMLElement>(`#${CSS.escape(tab.getAttribute('aria-controls')!)}`)!.hidden = !on;
    }
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length]!;
      select(next);
      next.focus();
    });
  });
}
