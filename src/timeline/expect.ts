/**
 * Checks a sandbox's `expect` against a run: its summary, exit code and output. Each
 * result reads as a sentence, so a failing claim explains itself in CI:
 * "expected requests matching /async-sleep to overlap (peak ≥ 5), saw peak 1: they ran one after another".
 */
import type { ConcurrentRule, DurationRule, LaneRule, PeakRule, SandboxExpect } from '../sandbox/manifest.ts';
import type { TraceModel } from './model.ts';
import { peakConcurrency, spansOf, summarize } from './summary.ts';

export interface RunOutcome {
  exitCode: number | null;
  stdout: string;
}

export interface ExpectResult {
  ok: boolean;
  /** What was claimed and what was seen, in one sentence. */
  message: string;
}

const plural: Record<LaneRule['lane'], string> = {
  request: 'requests',
  handler: 'handlers',
  task: 'tasks',
  loop: 'event-loop blocks',
  thread: 'thread work items',
  process: 'process work items',
};

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const what = (rule: LaneRule) => `${plural[rule.lane]}${rule.match ? ` matching ${rule.match}` : ''}`;
const seen = (peak: number) => (peak <= 1 ? 'they ran one after another' : `${peak} ran at once`);

export function checkExpect(expect: SandboxExpect, model: TraceModel, run: RunOutcome): ExpectResult[] {
  const summary = summarize(model);
  const results: ExpectResult[] = [];
  const range = (label: string, value: number, r: { min?: number | undefined; max?: number | undefined }) => {
    if (r.min !== undefined) {
      results.push({ ok: value >= r.min, message: `expected ${label} to be at least ${r.min} ms, saw ${value} ms` });
    }
    if (r.max !== undefined) {
      results.push({ ok: value <= r.max, message: `expected ${label} to be at most ${r.max} ms, saw ${value} ms` });
    }
  };

  if (expect.exitCode !== undefined) {
    results.push({ ok: run.exitCode === expect.exitCode, message: `expected exit code ${expect.exitCode}, saw ${run.exitCode}` });
  }
  for (const text of expect.stdoutIncludes ?? []) {
    results.push({ ok: run.stdout.includes(text), message: `expected the output to include ${JSON.stringify(text)}` });
  }
  if (expect.wallMs) range('the wall time', summary.wallMs, expect.wallMs);
  if (expect.loopBlockedMs) range('the time the event loop was blocked', summary.loopBlockedMs, expect.loopBlockedMs);

  const withSpans = (rule: LaneRule, check: (peak: number) => ExpectResult) => {
    const spans = spansOf(model, rule.lane, rule.match);
    if (!spans.length) results.push({ ok: false, message: `expected ${what(rule)} in the trace, found none` });
    else results.push(check(peakConcurrency(spans)));
  };
  for (const rule of list<PeakRule>(expect.peakConcurrency)) {
    withSpans(rule, (peak) => {
      const low = rule.min === undefined || peak >= rule.min;
      const high = rule.max === undefined || peak <= rule.max;
      const bounds = [rule.min !== undefined ? `≥ ${rule.min}` : '', rule.max !== undefined ? `≤ ${rule.max}` : ''].filter(Boolean).join(' and ');
      return { ok: low && high, message: `expected the peak concurrency of ${what(rule)} to be ${bounds}, saw peak ${peak}: ${seen(peak)}` };
    });
  }
  for (const rule of list<LaneRule>(expect.serial)) {
    withSpans(rule, (peak) => ({ ok: peak <= 1, message: `expected ${what(rule)} to run one after another (peak 1), saw peak ${peak}: ${seen(peak)}` }));
  }
  for (const rule of list<ConcurrentRule>(expect.concurrent)) {
    const min = rule.min ?? 2;
    withSpans(rule, (peak) => ({ ok: peak >= min, message: `expected ${what(rule)} to overlap (peak ≥ ${min}), saw peak ${peak}: ${seen(peak)}` }));
  }
  for (const rule of list<DurationRule>(expect.spanMs)) {
    const spans = spansOf(model, rule.lane, rule.match);
    if (!spans.length) {
      results.push({ ok: false, message: `expected ${what(rule)} in the trace, found none` });
      continue;
    }
    const ms = spans.map((s) => Math.round((s.end - s.start) / 100) / 10);
    if (rule.min !== undefined) {
      const shortest = Math.min(...ms);
      results.push({ ok: shortest >= rule.min, message: `expected every one of the ${what(rule)} to last at least ${rule.min} ms, the shortest took ${shortest} ms` });
    }
    if (rule.max !== undefined) {
      const longest = Math.max(...ms);
      results.push({ ok: longest <= rule.max, message: `expected every one of the ${what(rule)} to last at most ${rule.max} ms, the longest took ${longest} ms` });
    }
  }
  return results;
}

/** Only the failures, as one paragraph (empty when the claim holds). */
export function explainFailures(results: ExpectResult[]): string {
  return results
    .filter((r) => !r.ok)
    .map((r) => r.message)
    .join('; ');
}
