/**
 * A sandbox's challenges, live (issue 19): loaded with the sandbox's data once the reader
 * reaches for it, never before. The task and the prediction's choices are static HTML
 * (Sandbox.astro); this adds, per challenge, the prediction shown next to the result, the
 * goal's checklist after each run (goal-checklist.ts, the sentences CI uses, in the page's
 * language), the quiet "done" once every rule holds (kept in progress-store.ts), hints one
 * at a time, and "Show solution": Monaco's diff editor of the reader's code against the
 * solution, with Apply. Everything shown is set as text.
 */
import { challengeStrings, type ChallengeStrings } from '../../i18n/challenge-strings.ts';
import type { SandboxFiles } from '../../protocol/manifest.ts';
import type { LoadedChallenge } from '../../sandbox/load-challenges.ts';
import { goalChecklist, goalMet, type ChecklistItem } from '../../timeline/goal-checklist.ts';
import type { TraceModel } from '../../timeline/model.ts';
import { challengeKey, progressStore } from '../progress-store.ts';
import type { MountedDiff } from './editor.ts';
import { prefersLightEditor } from './textarea-editor.ts';

export type Lang = 'en' | 'zh';

/** What the sandbox view lends the panel. */
export interface ChallengeHost {
  sandboxId: string;
  lang: Lang;
  original: SandboxFiles;
  currentFiles(): Promise<SandboxFiles>;
  /** Puts these files in the editors (opening them), as if the reader had typed them. */
  applyFiles(files: SandboxFiles): Promise<void>;
}

/** A finished run, or why there is nothing to judge. */
export type RunResult = { model: TraceModel; exitCode: number | null; stdout: string } | { failed: true };

const fill = (template: string, values: Record<string, string | number>) => template.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const languageOf = (file: string) => (file.endsWith('.py') ? 'python' : /\.[cm]?js$/.test(file) ? 'javascript' : /\.[cm]?ts$/.test(file) ? 'typescript' : 'plaintext') as 'python' | 'javascript' | 'typescript' | 'plaintext';

class ChallengePanel {
  private readonly section: HTMLElement;
  private readonly loaded: LoadedChallenge;
  private readonly host: ChallengeHost;
  private readonly t: ChallengeStrings;
  private readonly key: string;
  private readonly store = progressStore();
  private readonly checklist: HTMLUListElement;
  private readonly summary: HTMLElement;
  private readonly prediction: HTMLElement;
  private readonly predictBox: HTMLFieldSetElement | null;
  /** The choice locked in at the first run (its index), once there was a run. */
  private predicted: number | null | undefined;
  private diff: MountedDiff[] = [];
  private readonly solutionBox: HTMLElement;
  private readonly solutionButton: HTMLButtonElement;

  constructor(section: HTMLElement, loaded: LoadedChallenge, host: ChallengeHost) {
    this.section = section;
    this.loaded = loaded;
    this.host = host;
    this.t = challengeStrings[host.lang];
    this.key = challengeKey(host.sandboxId, loaded.challenge.id);
    const live = section.querySelector<HTMLElement>('[data-challenge-live]')!;
    const id = section.id || `ch-${this.key.replace('/', '-')}`;
    const t = this.t;
    this.predictBox = section.querySelector<HTMLFieldSetElement>('[data-challenge-predict]');

    this.prediction = el('p', { className: 'challenge-prediction', hidden: true });
    const goalHead = el('p', { className: 'challenge-subhead', id: `${id}-goal` }, t.checklistHeading);
    this.checklist = el('ul', { className: 'challenge-checklist' });
    this.checklist.setAttribute('aria-labelledby', goalHead.id);
    // Each rule, before any run: the goal as a list, unjudged.
    this.checklist.append(el('li', { className: 'challenge-idle' }, t.checklistIdle));
    this.summary = el('p', { className: 'challenge-summary' });
    this.summary.setAttribute('role', 'status');

    const hints = this.hints(id);
    this.solutionBox = el('div', { className: 'challenge-solution', id: `${id}-solution`, hidden: true });
    this.solutionButton = el('button', { type: 'button', className: 'sandbox-secondary', textContent: t.showSolution });
    this.solutionButton.setAttribute('aria-expanded', 'false');
    this.solutionButton.setAttribute('aria-controls', this.solutionBox.id);
    this.solutionButton.dataset.action = 'solution';
    this.solutionButton.addEventListener('click', () => void this.toggleSolution());

    live.replaceChildren(this.prediction, goalHead, this.checklist, this.summary, hints, el('div', { className: 'challenge-actions' }, this.solutionButton), this.solutionBox);
    if (this.store.isDone(this.key)) this.markDone(t.doneBefore);
  }

  /** Hints behind one button that shows the next each time; focus goes to the hint shown. */
  private hints(id: string): HTMLElement {
    const t = this.t;
    const all = this.loaded.challenge.hints;
    const list = el('ol', { className: 'challenge-hints', id: `${id}-hints` });
    const button = el('button', { type: 'button', className: 'sandbox-secondary' });
    button.dataset.action = 'hint';
    button.setAttribute('aria-controls', list.id);
    const label = () => (button.textContent = fill(t.showHint, { n: list.childElementCount + 1, total: all.length }));
    label();
    button.addEventListener('click', () => {
      const n = list.childElementCount;
      const hint = all[n];
      if (!hint) return;
      const colon = this.host.lang === 'zh' ? '：' : ': ';
      const item = el('li', { tabIndex: -1 }, el('span', { className: 'challenge-hint-label' }, `${fill(t.hint, { n: n + 1 })}${colon}`), ...codeText(hint[this.host.lang]));
      list.append(item);
      if (list.childElementCount >= all.length) {
        button.hidden = true;
        item.focus(); // the button is gone: focus lands on what it showed
      } else label();
    });
    return el('div', { className: 'challenge-hint-box' }, list, button);
  }

  private async toggleSolution(): Promise<void> {
    const open = this.solutionBox.hidden;
    this.solutionBox.hidden = !open;
    this.solutionButton.setAttribute('aria-expanded', String(open));
    this.solutionButton.textContent = open ? this.t.hideSolution : this.t.showSolution;
    for (const d of this.diff.splice(0)) d.dispose();
    if (!open) {
      this.solutionBox.replaceChildren();
      return;
    }
    await this.showSolution();
  }

  private async showSolution(): Promise<void> {
    const t = this.t;
    const box = this.solutionBox;
    const mine = await this.host.currentFiles();
    const apply = el('button', { type: 'button', className: 'sandbox-run', textContent: t.apply });
    apply.dataset.action = 'apply-solution';
    const note = el('p', { className: 'challenge-applied' });
    note.setAttribute('role', 'status');
    apply.addEventListener('click', () => {
      void this.host.applyFiles({ ...mine, ...this.loaded.solution }).then(() => (note.textContent = t.applied));
    });
    const files = Object.keys(this.loaded.solution);
    box.replaceChildren(el('p', { className: 'challenge-subhead' }, t.solutionHeading));
    const light = prefersLightEditor();
    const kit = light ? undefined : import('./editor.ts');
    for (const file of files) {
      const label = fill(t.diffLabel, { file });
      if (files.length > 1) box.append(el('p', { className: 'challenge-file' }, file));
      if (light) {
        // Phones: no Monaco; the solution's file as plain text.
        const pre = el('pre', { className: 'challenge-solution-text', tabIndex: 0 }, this.loaded.solution[file]!);
        pre.setAttribute('aria-label', fill(t.solutionPlain, { file }));
        box.append(pre);
        continue;
      }
      const holder = el('div', { className: 'challenge-diff' }, el('p', { className: 'challenge-loading' }, t.loadingDiff));
      holder.setAttribute('role', 'group');
      holder.setAttribute('aria-label', label);
      box.append(holder);
      const { mountDiff } = await kit!;
      if (box.hidden) return; // closed while loading
      holder.replaceChildren();
      this.diff.push(mountDiff(holder, { original: mine[file] ?? '', modified: this.loaded.solution[file]!, language: languageOf(file), label }));
    }
    box.append(el('div', { className: 'challenge-actions' }, apply), note);
  }

  runStarted(): void {
    if (this.predicted !== undefined) return;
    const checked = this.predictBox?.querySelector<HTMLInputElement>('input:checked');
    this.predicted = checked ? Number(checked.value) : null;
    // Picked before the first run, kept as it was: the point is to compare.
    if (this.predictBox) this.predictBox.disabled = true;
  }

  runEnded(result: RunResult): void {
    const t = this.t;
    const lang = this.host.lang;
    const predict = this.loaded.challenge.predict;
    if (predict && this.predicted !== undefined) {
      const choice = this.predicted === null ? undefined : predict.choices[this.predicted];
      this.prediction.textContent = choice ? fill(t.youPredicted, { choice: choice[lang] }) : t.noPrediction;
      this.prediction.hidden = false;
    }
    if ('failed' in result) {
      this.checklist.replaceChildren(el('li', { className: 'challenge-idle' }, t.noResult));
      this.summary.textContent = t.noResult;
      return;
    }
    const items = goalChecklist(this.loaded.challenge.goal, result.model, { exitCode: result.exitCode, stdout: result.stdout });
    this.checklist.replaceChildren(...items.map((item) => this.item(item)));
    const met = items.filter((i) => i.ok).length;
    if (goalMet(items)) {
      this.store.markDone(this.key);
      this.markDone(t.done);
    } else {
      this.summary.textContent = fill(t.summary, { n: met, total: items.length });
    }
  }

  private item(item: ChecklistItem): HTMLLIElement {
    const t = this.t;
    const li = el(
      'li',
      { className: item.ok ? 'challenge-ok' : 'challenge-miss' },
      hidden(el('span', { className: 'challenge-mark' }, item.ok ? '✓' : '✗')),
      el('span', { className: 'visually-hidden' }, `${item.ok ? t.met : t.notMet}${this.host.lang === 'zh' ? '：' : ': '}`),
      el('span', {}, this.host.lang === 'zh' ? item.zh : item.en),
    );
    li.dataset.rule = item.key;
    return li;
  }

  private markDone(text: string): void {
    this.section.dataset.done = 'true';
    this.summary.textContent = text;
  }
}

/** A mark the words beside it already say: hidden from screen readers. */
function hidden<T extends HTMLElement>(node: T): T {
  node.setAttribute('aria-hidden', 'true');
  return node;
}

/** Text with `code` spans, as nodes (never HTML). */
function codeText(text: string): Node[] {
  return text.split(/(`[^`]+`)/).map((part) => (part.length > 2 && part.startsWith('`') && part.endsWith('`') ? el('code', {}, part.slice(1, -1)) : document.createTextNode(part)));
}

export interface MountedChallenges {
  runStarted(): void;
  runEnded(result: RunResult): void;
}

/** Wires every static challenge section of a sandbox to its loaded challenge. */
export function mountChallenges(root: HTMLElement, challenges: LoadedChallenge[], host: ChallengeHost): MountedChallenges {
  const panels: ChallengePanel[] = [];
  for (const loaded of challenges) {
    const section = root.querySelector<HTMLElement>(`[data-challenge="${CSS.escape(loaded.challenge.id)}"]`);
    if (section) panels.push(new ChallengePanel(section, loaded, host));
  }
  return {
    runStarted: () => panels.forEach((p) => p.runStarted()),
    runEnded: (result) => panels.forEach((p) => p.runEnded(result)),
  };
}
