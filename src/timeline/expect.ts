/**
 * Checks a sandbox's `expect` against a run: its summary, exit code and output. Each
 * result reads as a sentence, in English and in Chinese (the page shows a claim in its
 * reader's language), so a failing claim explains itself in CI:
 * "expected handlers matching /async-sleep to overlap (peak ≥ 5), saw peak 1: they ran one after another".
 *
 * Relative rules (`wallVsSpans`, `spanRatio`, `loopBlockedShare`) compare two quantities
 * of the same run, so a claim about CPU-bound work holds on any CPU: a faster or a
 * throttled one changes both sides of the ratio alike.
 */
import type {
  ConcurrentRule,
  DurationRule,
  LaneRule,
  PeakRule,
  SandboxExpect,
  ShareRule,
  SpanQuantity,
  SpanRatioRule,
  SpanStat,
  WallVsSpansRule,
} from '../protocol/manifest.ts';
import type { Segment, TraceModel } from './model.ts';
import { peakConcurrency, spansOf, summarize } from './summary.ts';

export interface RunOutcome {
  exitCode: number | null;
  stdout: string;
}

export interface ExpectResult {
  ok: boolean;
  /** What was claimed and what was seen, in one English sentence. */
  message: string;
  /** The same sentence in Chinese. */
  messageZh: string;
}

type Lane = LaneRule['lane'];

const plural: Record<Lane, string> = {
  request: 'requests',
  handler: 'handlers',
  task: 'tasks',
  loop: 'event-loop blocks',
  thread: 'thread work items',
  process: 'process work items',
};
const singular: Record<Lane, string> = {
  request: 'request',
  handler: 'handler',
  task: 'task',
  loop: 'event-loop block',
  thread: 'thread work item',
  process: 'process work item',
};
/** Chinese nouns, with the measure word a count takes ("3 次事件循环阻塞", "4 个线程任务"). */
const nounZh: Record<Lane, { noun: string; measure: string }> = {
  request: { noun: '请求', measure: '个' },
  handler: { noun: '处理函数', measure: '个' },
  task: { noun: '任务', measure: '个' },
  loop: { noun: '事件循环阻塞', measure: '次' },
  thread: { noun: '线程任务', measure: '个' },
  process: { noun: '进程任务', measure: '个' },
};

/**
 * Joins pieces of a Chinese sentence, with a space where Chinese meets a Latin letter or a
 * digit (预期总耗时至少是 4 个…), as Chinese technical writing sets them. Only the joints:
 * a piece's own text (a path, a quoted output line) is left as it is.
 */
const cjk = /[\u3400-\u9fff]/;
const latin = /[A-Za-z0-9/]/;
export function zhJoin(...pieces: string[]): string {
  return pieces.reduce((out, piece) => {
    const a = out.at(-1) ?? '';
    const b = piece[0] ?? '';
    return out + ((cjk.test(a) && latin.test(b)) || (latin.test(a) && cjk.test(b)) ? ' ' : '') + piece;
  }, '');
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const what = (rule: LaneRule) => `${plural[rule.lane]}${rule.match ? ` matching ${rule.match}` : ''}`;
const whatZh = (rule: LaneRule) => zhJoin(rule.match ? `匹配 ${rule.match} 的` : '', nounZh[rule.lane].noun);
const seen = (peak: number) => (peak <= 1 ? 'they ran one after another' : `${peak} ran at once`);
const seenZh = (peak: number) => (peak <= 1 ? '它们是依次执行的' : `同时有 ${peak} 个在执行`);
const missing = (rule: LaneRule): ExpectResult => ({
  ok: false,
  message: `expected ${what(rule)} in the trace, found none`,
  messageZh: zhJoin('预期追踪记录中有', whatZh(rule), '，但一个也没有'),
});

/** A group with its size: "the 4 thread work items matching x" / "4 个匹配 x 的线程任务". */
function group(rule: LaneRule, count: number): { en: string; zh: string } {
  const match = rule.match ? ` matching ${rule.match}` : '';
  const zh = nounZh[rule.lane];
  return {
    en: count === 0 ? `no ${plural[rule.lane]}${match}` : count === 1 ? `the one ${singular[rule.lane]}${match}` : `the ${count} ${plural[rule.lane]}${match}`,
    zh: zhJoin(`${count} ${zh.measure}`, rule.match ? `匹配 ${rule.match} 的` : '', zh.noun),
  };
}

/**
 * How a statistic of a group reads: "the longest of the 4 thread work items" / "4 个线程任务中最长耗时".
 * A group of one is just that span, whatever the statistic: "the event-loop block matching crunch".
 */
function statPhrase(stat: SpanStat, rule: LaneRule, count: number): { en: string; zh: string } {
  const g = group(rule, count);
  if (count === 0) return { en: `the summed time of ${g.en} (0 ms)`, zh: zhJoin(g.zh, '的耗时总和（0 ms）') };
  if (count === 1) return { en: `the ${singular[rule.lane]}${rule.match ? ` matching ${rule.match}` : ''}`, zh: zhJoin(whatZh(rule), '的耗时') };
  switch (stat) {
    case 'longest':
      return { en: `the longest of ${g.en}`, zh: zhJoin(g.zh, '中最长耗时') };
    case 'shortest':
      return { en: `the shortest of ${g.en}`, zh: zhJoin(g.zh, '中最短耗时') };
    case 'mean':
      return { en: `the average of ${g.en}`, zh: zhJoin(g.zh, '的平均耗时') };
    case 'sum':
      return { en: `the summed time of ${g.en}`, zh: zhJoin(g.zh, '的耗时总和') };
    case 'extent':
      return { en: `the time from the first of ${g.en} starting to the last ending`, zh: zhJoin(g.zh, '从第一个开始到最后一个结束的时长') };
  }
}

/** One statistic of spans, in µs. */
export function spanStat(spans: Segment[], stat: SpanStat): number {
  if (!spans.length) return 0;
  const durations = spans.map((s) => s.end - s.start);
  switch (stat) {
    case 'longest':
      return Math.max(...durations);
    case 'shortest':
      return Math.min(...durations);
    case 'sum':
      return durations.reduce((a, b) => a + b, 0);
    case 'mean':
      return durations.reduce((a, b) => a + b, 0) / durations.length;
    case 'extent':
      return Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
  }
}

/** 3.2 → "3.2", 0.256 → "0.26", 0.0049 → "0.0049", 4 → "4": enough digits to compare with a bound, no more. */
const times = (ratio: number) => String(Number(ratio >= 10 ? ratio.toFixed(1) : ratio >= 0.1 || ratio === 0 ? ratio.toFixed(2) : ratio.toPrecision(2)));
const percent = (share: number) => `${Math.round(share * 100)}%`;
const ms = (us: number) => Math.round(us / 100) / 10;

/** A quantity of a group of spans, or the reason it cannot be had (no such spans). */
interface Measured {
  us: number;
  phrase: { en: string; zh: string };
}
function measure(model: TraceModel, q: SpanQuantity, role: 'subject' | 'base'): Measured | ExpectResult {
  const spans = spansOf(model, q.lane, q.match);
  // The sum of no spans is 0: "the pool's hashing blocked the loop for at most a tenth of
  // its time" holds when it never blocked it at all. Longest, mean, … of nothing are not
  // numbers, and nothing to compare with is a claim about spans the run does not have.
  if (!spans.length && (q.of !== 'sum' || role === 'base')) return missing(q);
  return { us: spanStat(spans, q.of), phrase: statPhrase(q.of, q, spans.length) };
}
const isResult = (m: Measured | ExpectResult): m is ExpectResult => 'ok' in m;

/**
 * A ratio against its bounds: one result per bound, as for the millisecond rules.
 * `subject` is what is compared ("the wall time" / "总耗时"), `base` what it is a multiple of.
 */
function ratioResults(
  ratio: number,
  bounds: { min?: number | undefined; max?: number | undefined },
  subject: { en: string; zh: string },
  base: { en: string; zh: string },
  why: { en: string; zh: string } | undefined,
): ExpectResult[] {
  const tail = why ? { en: `: ${why.en}`, zh: `：${why.zh}` } : { en: '', zh: '' };
  const out: ExpectResult[] = [];
  if (bounds.min !== undefined) {
    out.push({
      ok: ratio >= bounds.min,
      message: `expected ${subject.en} to be at least ${bounds.min}× ${base.en}, saw ${times(ratio)}×${tail.en}`,
      messageZh: zhJoin('预期', subject.zh, '至少是', base.zh, `的 ${bounds.min} 倍，实际为 ${times(ratio)} 倍`, tail.zh),
    });
  }
  if (bounds.max !== undefined) {
    out.push({
      ok: ratio <= bounds.max,
      message: `expected ${subject.en} to be at most ${bounds.max}× ${base.en}, saw ${times(ratio)}×${tail.en}`,
      messageZh: zhJoin('预期', subject.zh, '不超过', base.zh, `的 ${bounds.max} 倍，实际为 ${times(ratio)} 倍`, tail.zh),
    });
  }
  return out;
}

/** A ratio whose base is zero says nothing: fail, and say why. */
const zeroBase = (base: { en: string; zh: string }): ExpectResult => ({
  ok: false,
  message: `cannot compare with ${base.en}: it is 0 ms`,
  messageZh: zhJoin('无法与', base.zh, '比较：它为 0 ms'),
});

export function checkExpect(expect: SandboxExpect, model: TraceModel, run: RunOutcome): ExpectResult[] {
  const summary = summarize(model);
  const results: ExpectResult[] = [];
  const range = (label: { en: string; zh: string }, value: number, r: { min?: number | undefined; max?: number | undefined }) => {
    if (r.min !== undefined) {
      results.push({
        ok: value >= r.min,
        message: `expected ${label.en} to be at least ${r.min} ms, saw ${value} ms`,
        messageZh: zhJoin('预期', label.zh, `至少为 ${r.min} ms，实际为 ${value} ms`),
      });
    }
    if (r.max !== undefined) {
      results.push({
        ok: value <= r.max,
        message: `expected ${label.en} to be at most ${r.max} ms, saw ${value} ms`,
        messageZh: zhJoin('预期', label.zh, `不超过 ${r.max} ms，实际为 ${value} ms`),
      });
    }
  };

  if (expect.exitCode !== undefined) {
    results.push({
      ok: run.exitCode === expect.exitCode,
      message: `expected exit code ${expect.exitCode}, saw ${run.exitCode}`,
      messageZh: `预期退出码为 ${expect.exitCode}，实际为 ${run.exitCode}`,
    });
  }
  for (const text of expect.stdoutIncludes ?? []) {
    results.push({
      ok: run.stdout.includes(text),
      message: `expected the output to include ${JSON.stringify(text)}`,
      messageZh: `预期输出中包含 ${JSON.stringify(text)}`,
    });
  }
  const wall = { en: 'the wall time', zh: '总耗时' };
  const blocked = { en: 'the time the event loop was blocked', zh: '事件循环被阻塞的时间' };
  if (expect.wallMs) range(wall, summary.wallMs, expect.wallMs);
  if (expect.loopBlockedMs) range(blocked, summary.loopBlockedMs, expect.loopBlockedMs);

  const withSpans = (rule: LaneRule, check: (peak: number) => ExpectResult) => {
    const spans = spansOf(model, rule.lane, rule.match);
    if (!spans.length) results.push(missing(rule));
    else results.push(check(peakConcurrency(spans)));
  };
  for (const rule of list<PeakRule>(expect.peakConcurrency)) {
    withSpans(rule, (peak) => {
      const low = rule.min === undefined || peak >= rule.min;
      const high = rule.max === undefined || peak <= rule.max;
      const bounds = [rule.min !== undefined ? `≥ ${rule.min}` : '', rule.max !== undefined ? `≤ ${rule.max}` : ''].filter(Boolean);
      return {
        ok: low && high,
        message: `expected the peak concurrency of ${what(rule)} to be ${bounds.join(' and ')}, saw peak ${peak}: ${seen(peak)}`,
        messageZh: zhJoin('预期', whatZh(rule), `的并发峰值 ${bounds.join(' 且 ')}，实际峰值为 ${peak}：${seenZh(peak)}`),
      };
    });
  }
  for (const rule of list<LaneRule>(expect.serial)) {
    withSpans(rule, (peak) => ({
      ok: peak <= 1,
      message: `expected ${what(rule)} to run one after another (peak 1), saw peak ${peak}: ${seen(peak)}`,
      messageZh: zhJoin('预期', whatZh(rule), `依次执行（峰值 1），实际峰值为 ${peak}：${seenZh(peak)}`),
    }));
  }
  for (const rule of list<ConcurrentRule>(expect.concurrent)) {
    const min = rule.min ?? 2;
    withSpans(rule, (peak) => ({
      ok: peak >= min,
      message: `expected ${what(rule)} to overlap (peak ≥ ${min}), saw peak ${peak}: ${seen(peak)}`,
      messageZh: zhJoin('预期', whatZh(rule), `彼此重叠（峰值 ≥ ${min}），实际峰值为 ${peak}：${seenZh(peak)}`),
    }));
  }
  for (const rule of list<DurationRule>(expect.spanMs)) {
    const spans = spansOf(model, rule.lane, rule.match);
    if (!spans.length) {
      results.push(missing(rule));
      continue;
    }
    const durations = spans.map((s) => ms(s.end - s.start));
    if (rule.min !== undefined) {
      const shortest = Math.min(...durations);
      results.push({
        ok: shortest >= rule.min,
        message: `expected every one of the ${what(rule)} to last at least ${rule.min} ms, the shortest took ${shortest} ms`,
        messageZh: zhJoin('预期每个', whatZh(rule), `耗时至少 ${rule.min} ms，最短的用了 ${shortest} ms`),
      });
    }
    if (rule.max !== undefined) {
      const longest = Math.max(...durations);
      results.push({
        ok: longest <= rule.max,
        message: `expected every one of the ${what(rule)} to last at most ${rule.max} ms, the longest took ${longest} ms`,
        messageZh: zhJoin('预期每个', whatZh(rule), `耗时不超过 ${rule.max} ms，最长的用了 ${longest} ms`),
      });
    }
  }

  for (const rule of list<WallVsSpansRule>(expect.wallVsSpans)) {
    const base = measure(model, rule, 'base');
    if (isResult(base)) {
      results.push(base);
      continue;
    }
    if (base.us <= 0) {
      results.push(zeroBase(base.phrase));
      continue;
    }
    const ratio = (summary.wallMs * 1000) / base.us;
    // Against the sum, the inverse ratio is how many of the spans were in progress on
    // average: the reading that tells overlap (≈ 4) from one after another (≈ 1).
    const why =
      rule.of === 'sum' && ratio > 0
        ? { en: `on average ${times(1 / ratio)} of them were in progress at once`, zh: `平均同时有 ${times(1 / ratio)} 个在进行` }
        : undefined;
    results.push(...ratioResults(ratio, rule, wall, base.phrase, why));
  }

  for (const rule of list<SpanRatioRule>(expect.spanRatio)) {
    const subject = measure(model, rule, 'subject');
    const base = measure(model, rule.vs, 'base');
    if (isResult(subject) || isResult(base)) {
      for (const m of [subject, base]) if (isResult(m)) results.push(m);
      continue;
    }
    if (base.us <= 0) {
      results.push(zeroBase(base.phrase));
      continue;
    }
    results.push(...ratioResults(subject.us / base.us, rule, subject.phrase, base.phrase, undefined));
  }

  const share: ShareRule | undefined = expect.loopBlockedShare;
  if (share) {
    if (summary.wallMs <= 0) {
      results.push(zeroBase(wall));
    } else {
      const value = summary.loopBlockedMs / summary.wallMs;
      const detail = { en: ` (${summary.loopBlockedMs} of ${summary.wallMs} ms)`, zh: `（${summary.wallMs} ms 中的 ${summary.loopBlockedMs} ms）` };
      const bound = (kind: 'min' | 'max', limit: number): ExpectResult => ({
        ok: kind === 'min' ? value >= limit : value <= limit,
        message: `expected the event loop to be blocked for ${kind === 'min' ? 'at least' : 'at most'} ${percent(limit)} of the wall time, saw ${percent(value)}${detail.en}`,
        messageZh: `预期事件循环被阻塞的时间${kind === 'min' ? '至少' : '最多'}占总耗时的 ${percent(limit)}，实际为 ${percent(value)}${detail.zh}`,
      });
      if (share.min !== undefined) results.push(bound('min', share.min));
      if (share.max !== undefined) results.push(bound('max', share.max));
    }
  }
  return results;
}

/** Only the failures, as one paragraph in the given language (empty when the claim holds). */
export function explainFailures(results: ExpectResult[], lang: 'en' | 'zh' = 'en'): string {
  return results
    .filter((r) => !r.ok)
    .map((r) => (lang === 'zh' ? r.messageZh : r.message))
    .join(lang === 'zh' ? '；' : '; ');
}
