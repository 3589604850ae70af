/**
 * One <Sandbox> on the page: its code (static, or Monaco once the reader edits), the
 * reader's saved edits, Run/Stop/Edit/Reset, the status line and the console, driven by
 * the engine chosen for it. Output is inserted as text, never as HTML.
 */
import { describeReason } from '../../protocol/reasons.ts';
import type { Engine, EngineEvent, PreviewAccess } from '../../engines/engine.ts';
import { runWithFallback, type FallbackEvent } from '../../engines/fallback.ts';
import type { PreviewStrings } from '../../i18n/ui.ts';
import type { SandboxFiles, SandboxManifest } from '../../protocol/manifest.ts';
import { hasEdits, loadEdits, saveEdits } from './edits.ts';
import { loadSandboxData } from './data-loader.ts';
import type { EditorLanguage, MountedEditor } from './editor.ts';
import { ConsoleView, type ConsoleStrings } from './console-view.ts';
import type { TimelineView } from './timeline-view.ts';
import { mountTextarea, prefersLightEditor } from './textarea-editor.ts';
import type { WhyNotStrings } from './why-not.ts';
import type { SectionStrings } from '../../timeline/section.ts';

export interface SandboxStrings extends WhyNotStrings {
  consoleEmpty: string;
  consoleCut: ConsoleStrings;
  expectedOutput: string;
  editorHint: { leave: string; tabMoves: string };
  status: {
    idle: string;
    connecting: string;
    queued: string;
    queuedRemote: string;
    running: string;
    exited: string;
    exitCode: string;
    booting: Record<'pyodide' | 'webcontainer', string>;
    starting: string;
  };
  ranWith: string;
  editorLabel: string;
  engines: Record<string, string>;
  isolation: Record<'bwrap' | 'none', string>;
  withIsolation: string;
  remote: { unreachable: string; fallback: string; noFallback: string };
  unreachable: string;
  unavailable: string;
  bootFailed: string;
  webcontainerOffline: string;
  /** Only for sandboxes whose manifest has a `preview`. */
  preview?: PreviewStrings;
}

/** What the page inlines: per sandbox its manifest, once per page the words; files and the recorded trace load on intent (data-loader.ts). */
export interface SandboxData {
  manifest: SandboxManifest;
  strings: SandboxStrings;
  timeline: SectionStrings & { thisRun: string; previousRun: string };
  /** The recorded run's caption, or null when the sandbox has no recording. */
  recordedCaption: string | null;
}

/** Sets a status sentence as text, with `backticked` commands shown as code (never parsed as HTML). */
export function setSentence(el: HTMLElement, sentence: string): void {
  el.replaceChildren(
    ...sentence.split(/(`[^`]+`)/).map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 2
        ? Object.assign(document.createElement('code'), { textContent: part.slice(1, -1) })
        : document.createTextNode(part),
    ),
  );
}

const runsPreviews = (engine: Engine | undefined) => engine?.id === 'local' || engine?.id === 'remote';

export const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

const languageOf = (file: string): EditorLanguage =>
  file.endsWith('.py') ? 'python' : /\.[cm]?js$/.test(file) ? 'javascript' : /\.[cm]?ts$/.test(file) ? 'typescript' : 'plaintext';

let editorKit: Promise<typeof import('./editor.ts')> | undefined;
const loadEditorKit = () => (editorKit ??= import('./editor.ts'));
// The live-preview panels: loaded only when a server run with a preview is ready.
let previewKit: Promise<typeof import('./preview-panel.ts')> | undefined;
const loadPreviewKit = () => (previewKit ??= import('./preview-panel.ts'));
// The live timeline (trace model, renderer, Perfetto export): loaded with the sandbox's data or
// on the first Run; until then the page's static drawing stands.
let timelineKit: Promise<typeof import('./timeline-view.ts')> | undefined;
const loadTimelineKit = () => (timelineKit ??= import('./timeline-view.ts'));
// Challenges (checklist, hints, solution diff) and sharing: only for a sandbox that has them, once its data is here.
let challengeKit: Promise<typeof import('./challenge-panel.ts')> | undefined;
const loadChallengeKit = () => (challengeKit ??= import('./challenge-panel.ts'));
let shareKit: Promise<typeof import('./share-ui.ts')> | undefined;
const loadShareKit = () => (shareKit ??= import('./share-ui.ts'));
/** Enough of a run's output to check a goal's `stdoutIncludes`; a flood past it is not kept twice. */
const maxJudgedOutput = 1 << 20;

let strings: Pick<SandboxData, 'strings' | 'timeline'> | undefined;
/** The page's one copy of the sandbox words (src/sandbox/client-strings.ts). */
const pageStrings = () => (strings ??= JSON.parse(document.querySelector('[data-sandbox-strings]')!.textContent!) as Pick<SandboxData, 'strings' | 'timeline'>);

export class SandboxView {
  private readonly root: HTMLElement;
  private readonly data: SandboxData;
  private readonly id: string;
  private readonly edits: SandboxFiles = {};
  /** The lesson's files, once loaded (`ensureData`). */
  private original: SandboxFiles | undefined;
  private loading: Promise<SandboxFiles> | undefined;
  private readonly editors = new Map<string, MountedEditor>();
  private mounting: Promise<void> | undefined;
  private engine: Engine | undefined;
  /** Every engine that can run this sandbox, in order (the picker's list). */
  private able: Engine[] = [];
  /** The engine running the current run: the chosen one, or the one it fell back to. */
  private running: Engine | undefined;
  /** How the hosted runner isolated the current run, as its hello said. */
  private isolation: 'bwrap' | 'none' | undefined;
  private controller: AbortController | undefined;
  /** The live preview of the current (or last) run, and which run it belongs to. */
  private preview: import('./preview-panel.ts').MountedPreview | undefined;
  private runNumber = 0;
  private timeline: TimelineView | undefined;
  private timelineLoading: Promise<TimelineView> | undefined;
  private challenges: Promise<import('./challenge-panel.ts').MountedChallenges | undefined> | undefined;
  /** The current run's output and end, for the challenges' checklist. */
  private runOutput = '';
  private runExit: { code: number | null; clean: boolean } | undefined;
  /** Shared code from the address is shown: edits stay in memory until the reader types. */
  private settingShared = false;
  private readonly output: ConsoleView;
  private readonly el: Record<'run' | 'stop' | 'edit' | 'reset' | 'status' | 'console' | 'edited' | 'picker', HTMLElement>;
  private readonly engineSelect: HTMLSelectElement;
  /** "Live preview" by Run: only on server sandboxes whose manifest has a preview, shown when the local engine runs them. */
  private readonly previewToggle: HTMLLabelElement | null;

  constructor(root: HTMLElement) {
    this.root = root;
    this.id = root.dataset.sandbox!;
    this.data = { ...pageStrings(), ...(JSON.parse(root.querySelector('[data-sandbox-data]')!.textContent!) as Pick<SandboxData, 'manifest' | 'recordedCaption'>) };
    const q = (selector: string) => root.querySelector<HTMLElement>(selector)!;
    this.el = {
      run: q('[data-action="run"]'),
      stop: q('[data-action="stop"]'),
      edit: q('[data-action="edit"]'),
      reset: q('[data-action="reset"]'),
      status: q('[data-status]'),
      console: q('[data-console]'),
      edited: q('[data-edited]'),
      picker: q('[data-engine-picker]'),
    };
    this.engineSelect = q('[data-engine]') as HTMLSelectElement;
    this.previewToggle = root.querySelector<HTMLLabelElement>('[data-preview-toggle]');
    this.output = new ConsoleView(this.el.console, root.querySelector<HTMLElement>('[data-console-cut]'), this.data.strings.consoleCut, `${this.id}-output.txt`);
  }

  private timelineReady(): Promise<TimelineView> {
    this.timelineLoading ??= loadTimelineKit().then(
      ({ TimelineView }) => (this.timeline = new TimelineView(this.root.querySelector<HTMLElement>('[data-timeline]')!, this.id, this.data.timeline, this.data.recordedCaption)),
      (err: unknown) => {
        this.timelineLoading = undefined;
        throw err;
      },
    );
    return this.timelineLoading;
  }

  /** "Open in Perfetto": needs the trace (the recording's, until a run replaces it) and the exporter. */
  private wireExport(): void {
    const button = this.root.querySelector<HTMLButtonElement>('[data-timeline] [data-action="export"]');
    if (!button) return;
    button.hidden = false;
    button.addEventListener('click', () => {
      void Promise.all([this.timelineReady(), this.ensureData()]).then(
        ([timeline]) => timeline.export(),
        (err: Error) => setSentence(this.el.status, err.message),
      );
    });
  }

  /**
   * The sandbox's files and recorded trace, fetched once (on the first intent: pointer or
   * focus in the sandbox, Run, Edit, export); then the reader's saved edits are checked
   * against the files and the recorded timeline is drawn in full.
   */
  private ensureData(): Promise<SandboxFiles> {
    this.loading ??= loadSandboxData(this.root.dataset.sandboxSrc!).then(
      ({ files, recorded, challenges }) => {
        this.original = files;
        Object.assign(this.edits, loadEdits(this.id, files));
        this.showEdited();
        if (challenges.length && this.root.querySelector('[data-challenge]')) {
          this.challenges = loadChallengeKit().then(
            ({ mountChallenges }) =>
              mountChallenges(this.root, challenges, {
                sandboxId: this.id,
                lang: this.data.strings.locale,
                original: files,
                currentFiles: () => this.currentFiles(),
                applyFiles: (next) => this.applyFiles(next),
              }),
            () => undefined,
          );
        }
        void this.timelineReady().then(
          (timeline) => timeline.showRecorded(recorded),
          () => undefined,
        );
        return files;
      },
      (err: unknown) => {
        this.loading = undefined; // the next intent tries again
        throw err;
      },
    );
    return this.loading;
  }

  get strings(): SandboxStrings {
    return this.data.strings;
  }

  get manifest(): SandboxManifest {
    return this.data.manifest;
  }

  /**
   * Wires the controls. `engines`: every engine on this page that can run the sandbox, in
   * order of preference (the first runs it unless the reader picks another); empty when
   * none can, and then `whyNot` says why and what would.
   */
  start(engines: Engine[], whyNot: string): void {
    const engine = engines[0];
    this.engine = engine;
    this.able = engines;
    this.wireTabs();
    this.wireExport();
    this.el.edit.hidden = false;
    this.el.edit.addEventListener('click', () => void this.openEditors(true));
    this.el.reset.addEventListener('click', () => this.reset());
    for (const block of this.root.querySelectorAll<HTMLElement>('.sandbox-file pre')) {
      block.addEventListener('click', () => void this.openEditors(true));
    }
    // Intent: the data starts loading as the reader reaches for the sandbox, before the click.
    for (const type of ['pointerenter', 'focusin', 'touchstart']) {
      this.root.addEventListener(type, () => void this.ensureData().catch(() => undefined), { once: true, passive: true });
    }
    this.wireShare();
    // Wired because the pointer or focus is already here (boot.ts): that was the intent.
    if (this.root.matches(':hover') || this.root.contains(document.activeElement)) void this.ensureData().catch(() => undefined);
    // The reader edited this sandbox before: show their code, not the original.
    if (hasEdits(this.id)) {
      void this.ensureData().then(
        () => (Object.keys(this.edits).length ? this.openEditors(false) : undefined),
        () => undefined,
      );
    }

    if (!engine) {
      (this.el.run as HTMLButtonElement).disabled = true;
      setSentence(this.el.status, whyNot);
      this.root.dataset.state = 'unsupported';
      return;
    }
    this.showEngines(engines);
    (this.el.run as HTMLButtonElement).disabled = false;
    this.el.run.addEventListener('click', () => void this.run());
    this.el.stop.addEventListener('click', () => this.controller?.abort());
    this.root.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.run();
      }
    });
  }

  private shareHost(): import('./share-ui.ts').ShareHost {
    return {
      sandboxId: this.id,
      lang: this.data.strings.locale,
      root: this.root,
      changedFiles: async () => {
        const original = await this.ensureData();
        const files = await this.currentFiles();
        return Object.fromEntries(Object.entries(files).filter(([name, text]) => text !== original[name]));
      },
      original: () => this.ensureData(),
      hasOwnEdits: () => hasEdits(this.id),
      showShared: (files) => this.showShared(files),
      restore: () => {
        this.reset();
      },
    };
  }

  /** "Share", and shared code in the address (`#share=`): both load their code on demand. */
  private wireShare(): void {
    const button = this.root.querySelector<HTMLButtonElement>('[data-action="share"]');
    if (button) {
      button.hidden = false;
      button.addEventListener('click', () => void loadShareKit().then(({ share }) => share(this.shareHost())));
    }
    if (/^#share=/.test(location.hash)) void loadShareKit().then(({ openShared }) => openShared(this.shareHost()));
  }

  /** Shared code in the editors, not saved: the reader's own saved edits stay until they type. */
  private async showShared(files: SandboxFiles): Promise<void> {
    const original = await this.ensureData();
    for (const file of Object.keys(this.edits)) delete this.edits[file];
    for (const [file, text] of Object.entries(files)) if (text !== original[file]) this.edits[file] = text;
    await this.openEditors(false);
    this.settingShared = true;
    try {
      for (const [file, editor] of this.editors) editor.setValue(this.edits[file] ?? original[file] ?? '');
    } finally {
      this.settingShared = false;
    }
    this.showEdited();
  }

  /** A challenge's Apply: these files become the reader's code, saved like typing. */
  private async applyFiles(files: SandboxFiles): Promise<void> {
    await this.openEditors(false);
    for (const [file, editor] of this.editors) {
      if (files[file] === undefined) continue;
      editor.setValue(files[file]);
      this.recordEdit(file, files[file]); // the textarea editor does not report setValue
    }
  }

  /** The picker shows which engine will run the code; with a choice, the reader may switch. */
  private showEngines(engines: Engine[]): void {
    const select = this.engineSelect;
    for (const engine of engines) {
      select.append(new Option(this.data.strings.engines[engine.id] ?? engine.id, engine.id));
    }
    select.disabled = engines.length < 2;
    select.addEventListener('change', () => {
      this.engine = engines.find((e) => e.id === select.value) ?? engines[0];
      this.root.dataset.engine = this.engine!.id;
      this.showPreviewToggle();
    });
    this.root.dataset.engine = engines[0]!.id;
    this.el.picker.hidden = false;
    this.showPreviewToggle();
  }

  /** The code as it stands: editor contents, else saved edits, else the lesson's original. */
  private async currentFiles(): Promise<SandboxFiles> {
    const files: SandboxFiles = { ...(await this.ensureData()), ...this.edits };
    for (const [name, editor] of this.editors) files[name] = editor.getValue();
    return files;
  }

  private openEditors(focus: boolean): Promise<void> {
    this.mounting ??= (async () => {
      this.root.dataset.editor = 'loading';
      let original: SandboxFiles;
      try {
        original = await this.ensureData();
      } catch (err) {
        delete this.root.dataset.editor;
        this.mounting = undefined;
        setSentence(this.el.status, (err as Error).message);
        return;
      }
      // Phones and tablets get a plain textarea: Monaco is heavy and weak under a thumb.
      const light = prefersLightEditor();
      const mountEditor = light ? mountTextarea : (await loadEditorKit()).mountEditor;
      for (const panel of this.root.querySelectorAll<HTMLElement>('.sandbox-file')) {
        const file = panel.dataset.file!;
        const block = panel.querySelector<HTMLElement>('pre')!;
        const wasHidden = panel.hidden;
        panel.hidden = false; // measure the real box, even on a background tab
        const editor = mountEditor({
          replaces: block,
          value: this.edits[file] ?? original[file]!,
          language: languageOf(file),
          label: fill(this.data.strings.editorLabel, { file }),
          onChange: (value) => this.recordEdit(file, value),
          onRun: () => void this.run(),
          hint: this.data.strings.editorHint,
          hintHost: this.root.querySelector<HTMLElement>('.sandbox-header'),
        });
        panel.hidden = wasHidden;
        this.editors.set(file, editor);
      }
      this.el.edit.hidden = true;
      this.root.dataset.editor = light ? 'textarea' : 'ready';
    })();
    return this.mounting.then(() => {
      if (focus) this.visibleEditor()?.focus();
    });
  }

  private visibleEditor(): MountedEditor | undefined {
    const panel = [...this.root.querySelectorAll<HTMLElement>('.sandbox-file')].find((p) => !p.hidden);
    return panel ? this.editors.get(panel.dataset.file!) : undefined;
  }

  private recordEdit(file: string, value: string): void {
    if (value === this.original?.[file]) delete this.edits[file];
    else this.edits[file] = value;
    // Shared code is saved only once the reader makes it theirs by typing, not as it loads.
    if (this.settingShared) return this.showEdited();
    saveEdits(this.id, this.edits);
    this.showEdited();
  }

  private reset(): void {
    for (const file of Object.keys(this.edits)) delete this.edits[file];
    saveEdits(this.id, this.edits);
    for (const [file, editor] of this.editors) editor.setValue(this.original?.[file] ?? editor.getValue());
    this.showEdited();
  }

  private showEdited(): void {
    const edited = Object.keys(this.edits).length > 0;
    this.el.edited.hidden = !edited;
    this.el.reset.hidden = !edited;
  }

  private append(text: string, kind: 'stdout' | 'stderr' | 'note'): void {
    this.output.append(text, kind);
  }

  private onEvent(event: EngineEvent): void {
    const { strings } = this.data;
    switch (event.type) {
      case 'status':
        if (event.isolation) this.isolation = event.isolation;
        this.el.status.textContent =
          event.state === 'queued'
            ? fill(this.running?.id === 'remote' ? strings.status.queuedRemote : strings.status.queued, { n: event.position ?? 1 })
            : event.state === 'connecting'
              ? strings.status.connecting
              : event.state === 'booting'
                ? strings.status.booting[this.running?.id === 'webcontainer' ? 'webcontainer' : 'pyodide']
                : event.state === 'starting'
                  ? strings.status.starting
                  : strings.status.running;
        if (event.state === 'booting') this.root.dataset.state = 'booting';
        else if (event.state === 'running') this.root.dataset.state = 'running';
        break;
      case 'stdout':
      case 'stderr':
        if (event.type === 'stdout' && this.runOutput.length < maxJudgedOutput) this.runOutput += event.data;
        this.append(event.data, event.type);
        break;
      case 'trace':
        this.timeline?.add(event.data);
        break;
      case 'ready':
        if (event.preview) void this.openPreview(event.preview, this.runNumber);
        break;
      case 'exit': {
        this.runExit = { code: event.code, clean: !event.signal && !event.reason };
        const code = event.signal ?? fill(strings.status.exitCode, { n: String(event.code) });
        let line = fill(strings.status.exited, { code, s: (event.durationMs / 1000).toFixed(2) });
        if (event.reason) line += ` — ${describeReason(event.reason, strings.locale)}`;
        const ran = this.running;
        let engineName = ran ? (strings.engines[ran.id] ?? ran.id) : '';
        if (ran?.id === 'remote' && this.isolation) engineName = fill(strings.withIsolation, { engine: engineName, isolation: strings.isolation[this.isolation] });
        this.el.status.textContent = `${line} · ${fill(strings.ranWith, { engine: engineName })}`;
        this.root.dataset.state = event.reason ? event.reason.code : 'exited';
        this.timeline?.settle({ failed: event.code !== 0 || !!event.signal || !!event.reason, text: line });
        break;
      }
      case 'error': {
        const sentence =
          event.code === 'runner-unreachable'
            ? this.running?.id === 'remote'
              ? strings.remote.noFallback
              : strings.unreachable
            : event.code === 'webcontainer-offline'
              ? fill(strings.webcontainerOffline, { detail: event.message })
              : event.code === 'boot-failed'
                ? fill(strings.bootFailed, { engine: strings.engines[this.running?.id ?? ''] ?? '', detail: event.message })
                : event.message;
        setSentence(this.el.status, sentence);
        this.append(`${sentence}\n`, 'note');
        this.root.dataset.state = event.code;
        this.timeline?.settle({ failed: true, text: sentence });
        break;
      }
      default:
        break;
    }
  }

  /** The challenges' checklist for the run that just ended: judged only when it ran to its end. */
  private async judge(): Promise<void> {
    if (!this.challenges) return;
    // Taken now: the next run may begin while the panel module loads.
    const model = this.timeline?.lastRun();
    const exit = this.runExit;
    const result = model && exit?.clean ? { model, exitCode: exit.code, stdout: this.runOutput } : ({ failed: true } as const);
    (await this.challenges)?.runEnded(result);
  }

  /** Shows the panels the manifest names, talking to this run's server (unless the run is already over). */
  private async openPreview(access: PreviewAccess, run: number): Promise<void> {
    const config = this.data.manifest.preview;
    const strings = this.data.strings.preview;
    if (!config || !strings) return;
    const { mountPreview } = await loadPreviewKit();
    if (run !== this.runNumber || !this.controller) return; // that run ended while the panels loaded
    this.preview?.element.remove();
    this.preview = mountPreview(access, config, strings, `pv-${this.id}`);
    this.el.console.after(this.preview.element);
    this.root.dataset.preview = 'open';
  }

  /** The run is over: its server is gone, so are the panels' connections. */
  private endPreview(): void {
    if (!this.preview) return;
    this.preview.end();
    this.root.dataset.preview = 'ended';
  }

  /** Only a runner (this page's, or the hosted one) can keep a server up for the page to talk to. */
  private showPreviewToggle(): void {
    if (this.previewToggle) this.previewToggle.hidden = !runsPreviews(this.engine);
  }

  /** A live preview is asked for when the reader ticked it, the manifest names panels and a runner runs the server. */
  private wantsPreview(engine: Engine): boolean {
    const { manifest, strings } = this.data;
    const ticked = this.previewToggle?.querySelector('input')?.checked === true;
    return ticked && manifest.kind === 'server' && !!manifest.preview && !!strings.preview && runsPreviews(engine);
  }

  /**
   * The hosted runner could not take the run (fallback.ts): the console and the status say why
   * and which engine runs it instead; the picker keeps the hosted runner for the next Run.
   */
  private onFallback(event: FallbackEvent): void {
    const { strings } = this.data;
    this.running = this.able.find((e) => e.id === event.to);
    const why = event.cause.kind === 'unreachable' ? strings.remote.unreachable : describeReason(event.cause.reason, strings.locale);
    const sentence = fill(strings.remote.fallback, { why, engine: strings.engines[event.to] ?? event.to });
    setSentence(this.el.status, sentence);
    this.append(`${sentence}\n`, 'note');
    this.root.dataset.fallback = event.cause.kind === 'unreachable' ? 'unreachable' : event.cause.reason.code;
  }

  async run(): Promise<void> {
    const engine = this.engine;
    if (!engine || this.controller) return;
    const controller = (this.controller = new AbortController());
    const run = ++this.runNumber;
    this.running = engine;
    this.isolation = undefined;
    delete this.root.dataset.fallback;
    this.preview?.element.remove();
    this.preview = undefined;
    delete this.root.dataset.preview;
    this.output.clear();
    this.runOutput = '';
    this.runExit = undefined;
    this.captionLessonOutput();
    this.root.dataset.state = 'starting'; // 'booting' or 'running' once the engine says so
    (this.el.run as HTMLButtonElement).disabled = true;
    this.engineSelect.disabled = true; // the engine is fixed for the length of a run
    const toggle = this.previewToggle?.querySelector('input');
    if (toggle) toggle.disabled = true;
    this.el.stop.hidden = false;
    try {
      const files = await this.currentFiles(); // the first Run may be what loads them
      (await this.challenges)?.runStarted();
      await this.timelineReady();
      this.timeline!.begin();
      const options = { preview: this.wantsPreview(engine) };
      // The hosted runner may turn a run away before it starts: then an in-browser engine runs it.
      const fallback = engine.id === 'remote' ? this.able.find((e) => e.id === 'pyodide' || e.id === 'webcontainer') : undefined;
      const events = fallback ? runWithFallback(engine, fallback, files, this.data.manifest, controller.signal, options) : engine.run(files, this.data.manifest, controller.signal, options);
      for await (const event of events) {
        if (event.type === 'fallback') this.onFallback(event);
        else this.onEvent(event);
      }
    } catch (err) {
      this.onEvent({ type: 'error', code: 'engine-failed', message: (err as Error).message });
    } finally {
      this.output.flush(true);
      this.timeline?.end();
      void this.judge();
      this.controller = undefined;
      if (run === this.runNumber) this.endPreview();
      (this.el.run as HTMLButtonElement).disabled = false;
      this.engineSelect.disabled = this.engineSelect.options.length < 2;
      if (toggle) toggle.disabled = false;
      // Stop hides itself when the run ends: focus on it would fall to <body>, so it moves to Run.
      const stopHadFocus = document.activeElement === this.el.stop;
      this.el.stop.hidden = true;
      if (stopHadFocus) this.el.run.focus();
    }
  }

  /**
   * The lesson usually prints the program's output right under the sandbox. Once the
   * reader's own run fills the console, that block is captioned so the two are not taken
   * for one another (it stays: the prose around it refers to it). Added on Run, not on
   * load, so nothing moves before the reader acts.
   */
  private captionLessonOutput(): void {
    let next = this.root.nextElementSibling;
    while (next instanceof HTMLScriptElement) next = next.nextElementSibling; // the page's sandbox script may sit in between
    if (!(next instanceof HTMLPreElement) || next.dataset.language !== 'text' || next.previousElementSibling?.classList.contains('sandbox-expected')) return;
    const caption = Object.assign(document.createElement('p'), { className: 'sandbox-expected', textContent: this.data.strings.expectedOutput });
    caption.id = `sbx-${this.id}-expected`;
    next.setAttribute('aria-describedby', caption.id);
    next.before(caption);
  }

  private wireTabs(): void {
    const tabs = [...this.root.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
    const select = (chosen: HTMLButtonElement) => {
      for (const tab of tabs) {
        const on = tab === chosen;
        tab.setAttribute('aria-selected', String(on));
        tab.tabIndex = on ? 0 : -1;
        this.root.querySelector<HTMLElement>(`#${CSS.escape(tab.getAttribute('aria-controls')!)}`)!.hidden = !on;
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
}
