/**
 * Why a run ended abnormally, or why it could not start. The runner sends the stable
 * code plus numbers; each client words it in its reader's language with these templates.
 */
export const reasonCodes = [
  'timeout',
  'cpu',
  'memory',
  'output-limit',
  'trace-limit',
  'process-limit',
  'file-limit',
  'disk-limit',
  'stopped',
  'disconnected',
  'busy',
  'queue-limit',
  'isolation-unavailable',
  'service-unavailable',
  'bad-request',
  'internal',
  // The hosted fleet (src/fleet): the node running the run vanished; a client went past its share;
  // the fleet's queue (Redis) was unreachable or lost the run.
  'node-lost',
  'rate-limit',
  'fleet-unavailable',
] as const;
export type ReasonCode = (typeof reasonCodes)[number];

export interface Reason {
  code: ReasonCode;
  /** The English sentence, for logs and terminals. */
  message: string;
  /** Numbers the sentence was built from (limits, positions), for other languages. */
  params?: Record<string, string | number>;
}

type Params = Record<string, string | number>;
type Template = (p: Params) => string;

/**
 * A timeout's note on a limit the run had also run into before the runner ended it (the
 * process cap refuses a fork, a full disk refuses a write: neither ends a run by itself).
 */
function alsoHit(p: Params, locale: 'en' | 'zh'): string {
  if (p.alsoHit === 'process-limit') return locale === 'en' ? `; before that it reached the process limit (at most ${p.max} processes and threads)` : `；此前已达到进程数上限（最多 ${p.max} 个进程和线程）`;
  if (p.alsoHit === 'disk-limit') return locale === 'en' ? `; before that it reached the disk space limit of ${p.mib} MiB` : `；此前已达到磁盘空间上限（${p.mib} MiB）`;
  return '';
}

/** The per-client limits of the hosted fleet (src/fleet), worded for zh; `detail` is the English. */
const rateLimitZh: Record<string, string> = {
  'runs-per-minute': '一分钟内的运行次数已达上限',
  'concurrent-runs': '同时进行的运行已达上限',
  connections: '打开的连接数已达上限',
};

const templates: Record<'en' | 'zh', Record<ReasonCode, Template>> = {
  en: {
    timeout: (p) => `timed out after ${p.seconds} s${alsoHit(p, 'en')}`,
    cpu: (p) => `CPU time limit of ${p.seconds} s reached`,
    memory: (p) => `out of memory: the limit is ${p.mib} MiB${p.service ? `, its ${p.service} server included (a ${p.service} process of this run was killed)` : ''}`,
    'output-limit': (p) => `output limit of ${p.kib} KiB reached; the rest was cut`,
    'trace-limit': (p) => `trace limit reached (${p.kib} KiB or ${p.events} events)`,
    'process-limit': (p) => `process limit reached: at most ${p.max} processes and threads`,
    'file-limit': (p) => `file size limit of ${p.mib} MiB reached`,
    'disk-limit': (p) => `disk space limit of ${p.mib} MiB reached`,
    stopped: () => 'stopped',
    disconnected: () => 'stopped because the page disconnected',
    busy: (p) => `the runner is busy (${p.running} running, ${p.queued} waiting): try again ${p.retrySeconds !== undefined ? `in ${p.retrySeconds} s` : 'in a moment'}`,
    'queue-limit': (p) => `this page already has ${p.waiting} runs waiting, the most one page may queue: run this again once one of them has started`,
    'isolation-unavailable': (p) => `sandbox isolation is unavailable: ${p.detail}`,
    'service-unavailable': (p) => `this sandbox needs ${p.service}, which is not available here: ${p.detail}`,
    'bad-request': (p) => `bad request: ${p.detail}`,
    internal: (p) => `the runner failed: ${p.detail}`,
    'node-lost': () => 'the machine running this sandbox stopped answering; the run was not retried (a half-run program must not run twice): run it again',
    'rate-limit': (p) => `${p.detail}: try again in ${p.retrySeconds} s`,
    'fleet-unavailable': (p) => `the hosted runner is unavailable (${p.detail}): try again in a moment`,
  },
  zh: {
    timeout: (p) => `运行超时（${p.seconds} 秒）${alsoHit(p, 'zh')}`,
    cpu: (p) => `CPU 时间超过上限（${p.seconds} 秒）`,
    memory: (p) => `内存不足：上限为 ${p.mib} MiB${p.service ? `，含本次运行的 ${p.service} 服务器（其一个进程已被终止）` : ''}`,
    'output-limit': (p) => `输出超过上限（${p.kib} KiB），其余部分已截断`,
    'trace-limit': (p) => `追踪数据超过上限（${p.kib} KiB 或 ${p.events} 个事件）`,
    'process-limit': (p) => `进程数达到上限：进程和线程合计最多 ${p.max} 个`,
    'file-limit': (p) => `单个文件大小超过上限（${p.mib} MiB）`,
    'disk-limit': (p) => `磁盘空间超过上限（${p.mib} MiB）`,
    stopped: () => '已停止',
    disconnected: () => '页面已断开连接，运行已停止',
    busy: (p) => `运行器正忙（${p.running} 个运行中，${p.queued} 个排队）：${p.retrySeconds !== undefined ? `请 ${p.retrySeconds} 秒后再试` : '请稍后再试'}`,
    'queue-limit': (p) => `此页面已有 ${p.waiting} 个运行在排队，已达单个页面的上限：请等其中一个开始运行后再试`,
    'isolation-unavailable': (p) => `沙箱隔离不可用：${p.detail}`,
    'service-unavailable': (p) => `此沙箱需要 ${p.service}，但本机无法提供：${p.detail}`,
    'bad-request': (p) => `请求有误：${p.detail}`,
    internal: (p) => `运行器出错：${p.detail}`,
    'node-lost': () => '执行这个沙箱的机器失去响应；本次运行不会自动重试（程序只运行了一半，不能再执行第二遍）：请重新运行',
    'rate-limit': (p) => `${rateLimitZh[String(p.limit)] ?? p.detail}：请 ${p.retrySeconds} 秒后再试`,
    'fleet-unavailable': () => '托管运行器暂时不可用：请稍后再试',
  },
};

export function reason(code: ReasonCode, params: Params = {}): Reason {
  return { code, message: templates.en[code](params), params };
}

/** The reason in the reader's language. */
export function describeReason(r: Pick<Reason, 'code' | 'params'>, locale: 'en' | 'zh'): string {
  return templates[locale][r.code](r.params ?? {});
}
