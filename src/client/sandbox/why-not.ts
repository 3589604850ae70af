/**
 * When no engine on this page can run a sandbox, the reader is told why, in the page's
 * language, and what would run it (DESIGN §4: "needs threads: run `npm start` locally").
 */
import type { EngineChoice } from '../../engines/engine.ts';
import type { SandboxManifest } from '../../protocol/manifest.ts';

export interface WhyNotStrings {
  why: { needs: string; pythonServer: string; notIsolated: string; noSharedMemory: string; noWorkers: string; localProblem: string };
  needNames: Record<string, string>;
  locale: 'en' | 'zh';
}

const fill = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? '');

/** `localProblem`: the runner's own complaint when the page has one but it cannot run (not just absent). */
export function whyNoEngine(manifest: SandboxManifest, rejected: EngineChoice['rejected'], strings: WhyNotStrings, localProblem?: string): string {
  const inBrowser = rejected.find((r) => r.engine === (manifest.language === 'python' ? 'pyodide' : 'webcontainer'));
  const needs = (list: string) =>
    fill(strings.why.needs, {
      needs: list
        .split(', ')
        .map((need) => strings.needNames[need] ?? need)
        .join(strings.locale === 'zh' ? '、' : ', '),
    });
  let sentence: string;
  if (!inBrowser) sentence = needs(manifest.needs.join(', '));
  else if (inBrowser.code === 'needs') sentence = needs(inBrowser.detail);
  else if (inBrowser.code === 'kind') sentence = strings.why.pythonServer;
  else if (inBrowser.detail === 'not-isolated') sentence = strings.why.notIsolated;
  else if (inBrowser.detail === 'no-shared-memory') sentence = strings.why.noSharedMemory;
  else sentence = strings.why.noWorkers;
  return localProblem ? `${fill(strings.why.localProblem, { detail: localProblem })} ${sentence}` : sentence;
}
