/**
 * The words of a sandbox's challenges (issue 19): the panel under the sandbox, progress on
 * the lesson lists, the share link. Kept apart from ui.ts so the lazily loaded challenge
 * client carries these and nothing else. {placeholders} are filled in by the client.
 */
import type { Locale } from './locales.ts';

export interface ChallengeStrings {
  /** Heading of the panel: "Challenge: {title}". */
  heading: string;
  predictLegend: string;
  /** Before the first run, when the challenge asks for a prediction. */
  predictFirst: string;
  /** Shown next to the result: "You predicted: {choice}". */
  youPredicted: string;
  noPrediction: string;
  checklistHeading: string;
  /** Before any run of the reader's own. */
  checklistIdle: string;
  met: string;
  notMet: string;
  /** "{n} of {total} goals met". */
  summary: string;
  /** The quiet acknowledgement once every rule holds. */
  done: string;
  /** On a challenge done on an earlier visit. */
  doneBefore: string;
  /** A run that failed to produce a result to judge. */
  noResult: string;
  hint: string;
  /** "Show hint {n} of {total}". */
  showHint: string;
  showSolution: string;
  hideSolution: string;
  solutionHeading: string;
  diffLabel: string;
  /** Where the diff editor cannot load (phones): the solution as plain text. */
  solutionPlain: string;
  apply: string;
  applied: string;
  loadingDiff: string;
  share: string;
  shareCopied: string;
  /** Clipboard refused: the link is shown to copy by hand. */
  shareManual: string;
  shareNothing: string;
  shareErrors: Record<'too-large' | 'malformed' | 'other-sandbox', string>;
  sharedBanner: string;
  restore: string;
  /** Asked before shared code replaces the reader's own saved edits. */
  sharedOverwrite: string;
  loadShared: string;
  keepMine: string;
  /** Progress on lesson lists: "{done} of {total} challenges". */
  progress: string;
  /** Beside a lesson the reader has opened before (lesson lists). */
  visited: string;
  /** The home page's line: lessons opened ({visited} of {lessons}), challenges done ({done} of {total}). */
  courseSummary: string;
  resetProgress: string;
  resetConfirm: string;
  resetDone: string;
}

export const challengeStrings: Record<Locale, ChallengeStrings> = {
  en: {
    heading: 'Challenge: {title}',
    predictLegend: 'Predict first',
    predictFirst: 'Pick a prediction, then press Run.',
    youPredicted: 'You predicted: {choice}',
    noPrediction: 'You ran it without a prediction.',
    checklistHeading: 'Goal',
    checklistIdle: 'Run your code to check it against the goal.',
    met: 'met',
    notMet: 'not met yet',
    summary: '{n} of {total} goals met',
    done: 'Challenge done: every goal held on your run.',
    doneBefore: 'You solved this challenge on an earlier visit.',
    noResult: 'This run ended without a result to check: see the console.',
    hint: 'Hint {n}',
    showHint: 'Show hint {n} of {total}',
    showSolution: 'Show solution',
    hideSolution: 'Hide solution',
    solutionHeading: 'Your code (left) and the solution (right)',
    diffLabel: 'Differences between your {file} and the solution',
    solutionPlain: 'The solution’s {file}',
    apply: 'Apply the solution',
    applied: 'The solution is in the editor. Press Run to check it.',
    loadingDiff: 'Loading the comparison…',
    share: 'Share',
    shareCopied: 'Link copied: it carries your code in the address itself, not on any server.',
    shareManual: 'Copy this link to share your code:',
    shareNothing: 'Nothing to share yet: edit the code first.',
    shareErrors: {
      'too-large': 'Your code is too large for a link (the bound is 16 KiB once compressed).',
      malformed: 'This share link is damaged, so the lesson’s own code is shown.',
      'other-sandbox': 'This share link is for another example on this page or another page.',
    },
    sharedBanner: 'You are viewing shared code. It runs only when you press Run.',
    restore: 'Restore the lesson’s code',
    sharedOverwrite: 'This link carries shared code, but you have your own edits here. Load the shared code in their place?',
    loadShared: 'Load the shared code',
    keepMine: 'Keep my code',
    progress: '{done} of {total} challenges',
    visited: 'Opened',
    courseSummary: 'You have opened {visited} of {lessons} lessons and done {done} of {total} challenges.',
    resetProgress: 'Reset progress',
    resetConfirm: 'Forget which lessons you have opened and which challenges you have done? Your edited code stays.',
    resetDone: 'Progress reset.',
  },
  zh: {
    heading: '挑战：{title}',
    predictLegend: '先做预测',
    predictFirst: '先选一个预测，再点“运行”。',
    youPredicted: '你的预测：{choice}',
    noPrediction: '这次运行前没有做预测。',
    checklistHeading: '目标',
    checklistIdle: '运行你的代码，对照目标检查结果。',
    met: '已达成',
    notMet: '尚未达成',
    summary: '已达成 {n} / {total} 项目标',
    done: '挑战完成：这次运行满足了所有目标。',
    doneBefore: '你之前已经完成了这个挑战。',
    noResult: '这次运行没有产生可供检查的结果，请查看控制台。',
    hint: '提示 {n}',
    showHint: '显示提示（{n} / {total}）',
    showSolution: '查看参考答案',
    hideSolution: '收起参考答案',
    solutionHeading: '你的代码（左）与参考答案（右）',
    diffLabel: '你的 {file} 与参考答案的差异',
    solutionPlain: '参考答案中的 {file}',
    apply: '采用参考答案',
    applied: '参考答案已放入编辑器，点“运行”检查。',
    loadingDiff: '正在加载对比视图…',
    share: '分享',
    shareCopied: '链接已复制：代码就在链接地址里，不经过任何服务器。',
    shareManual: '复制下面的链接来分享你的代码：',
    shareNothing: '还没有可分享的内容：请先修改代码。',
    shareErrors: {
      'too-large': '代码太长，放不进链接（压缩后上限为 16 KiB）。',
      malformed: '这个分享链接已损坏，下面显示的是课程原本的代码。',
      'other-sandbox': '这个分享链接属于另一个示例。',
    },
    sharedBanner: '你正在查看别人分享的代码，只有点“运行”才会执行。',
    restore: '恢复课程原本的代码',
    sharedOverwrite: '这个链接带有分享的代码，但你在这里已经有自己的修改。要用分享的代码替换它们吗？',
    loadShared: '载入分享的代码',
    keepMine: '保留我的代码',
    progress: '已完成 {done} / {total} 个挑战',
    visited: '已读',
    courseSummary: '你已读过 {visited} / {lessons} 节课，完成了 {done} / {total} 个挑战。',
    resetProgress: '重置进度',
    resetConfirm: '要清除已读课程和挑战完成记录吗？你修改过的代码会保留。',
    resetDone: '进度已重置。',
  },
};
