/**
 * A challenge's goal as a checklist: one item per rule of the goal (same schema as a
 * sandbox's `expect`), each saying in English and in Chinese what was expected and what
 * the reader's run showed. The sentences are the ones CI prints (src/timeline/expect.ts):
 * the reader is judged by the same words the lesson's own claim is. A rule with two
 * bounds (min and max) is one item whose two sentences are joined.
 */
import type { SandboxExpect } from '../protocol/manifest.ts';
import { checkExpect, type ExpectResult, type RunOutcome } from './expect.ts';
import type { TraceModel } from './model.ts';

export type GoalLang = 'en' | 'zh';

export interface ChecklistItem {
  /** Which rule: the goal's key, and the index for a rule given as a list ("peakConcurrency.1"). */
  key: string;
  ok: boolean;
  en: string;
  zh: string;
}

type RuleKey = keyof SandboxExpect;

/** The goal split into one-rule goals, in the order of its keys (the schema's, once parsed). */
export function goalRules(goal: SandboxExpect): { key: string; rule: SandboxExpect }[] {
  const out: { key: string; rule: SandboxExpect }[] = [];
  for (const name of Object.keys(goal) as RuleKey[]) {
    const value = goal[name];
    if (value === undefined) continue;
    if (name === 'stdoutIncludes') {
      (value as string[]).forEach((text, i) => out.push({ key: `${name}.${i}`, rule: { stdoutIncludes: [text] } }));
    } else if (Array.isArray(value)) {
      value.forEach((one, i) => out.push({ key: `${name}.${i}`, rule: { [name]: one } as SandboxExpect }));
    } else {
      out.push({ key: name, rule: { [name]: value } as SandboxExpect });
    }
  }
  return out;
}

const capitalise = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/**
 * `expect` words an output rule as the claim only ("expected the output to include …");
 * the reader also wants what their run did.
 */
function withOutcome(key: string, results: ExpectResult[]): ExpectResult[] {
  if (!key.startsWith('stdoutIncludes')) return results;
  return results.map((r) => ({
    ...r,
    message: `${r.message}: ${r.ok ? 'it did' : 'it did not'}`,
    messageZh: `${r.messageZh}：${r.ok ? '实际包含' : '实际没有'}`,
  }));
}

export function goalChecklist(goal: SandboxExpect, model: TraceModel, run: RunOutcome): ChecklistItem[] {
  return goalRules(goal).map(({ key, rule }) => {
    const results = withOutcome(key, checkExpect(rule, model, run));
    return {
      key,
      // A rule with no result (cannot happen with the schema's refinements) is not a pass.
      ok: results.length > 0 && results.every((r) => r.ok),
      en: capitalise(results.map((r) => r.message).join('; ')),
      zh: results.map((r) => r.messageZh).join('；'),
    };
  });
}

/** Every rule holds: the challenge is done. An empty goal is never done. */
export const goalMet = (items: ChecklistItem[]): boolean => items.length > 0 && items.every((i) => i.ok);

/** One line for a log or a copy: the sentence and its mark. */
export const checklistLine = (item: ChecklistItem, lang: GoalLang): string => `${lang === 'zh' ? item.zh : item.en} ${item.ok ? '✓' : '✗'}`;
