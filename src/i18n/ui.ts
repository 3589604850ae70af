import type { Locale } from './locales.ts';
import type { SectionStrings } from '../timeline/section.ts';

/**
 * The live-preview panels (src/client/sandbox/preview-*.ts). Plain templates: the page fills
 * {s}, {status}, {ms}, {n}, {detail}, {code}, {reason}, {client}.
 */
export interface PreviewStrings {
  /** The checkbox by Run that asks for a live preview. */
  toggle: string;
  title: string;
  /** {s}: the run's limit in seconds */
  note: string;
  ended: string;
  path: string;
  connect: string;
  disconnect: string;
  send: string;
  requests: {
    title: string;
    method: string;
    body: string;
    badJson: string;
    sending: string;
    answered: string;
    headers: string;
    empty: string;
    redirect: string;
    failed: string;
  };
  refused: { ended: string; other: string };
  sse: { title: string; connecting: string; open: string; ended: string; closed: string; notStream: string; events: string };
  chat: {
    title: string;
    intro: string;
    a: string;
    b: string;
    message: string;
    received: string;
    connecting: string;
    open: string;
    closed: string;
    failed: string;
    sent: string;
    got: string;
  };
}

/** Every UI string the site prints. Both languages must fill every key (checked by the type). */
export interface UiStrings {
  siteName: string;
  tagline: string;
  skipToContent: string;
  nav: { course: string; lessonsHeading: string; onThisPage: string; previous: string; next: string };
  home: { title: string; intro: string; courseHeading: string; lesson: (n: number) => string; start: string };
  chooser: { title: string; intro: string };
  lesson: { objectivesHeading: string };
  search: { open: string; placeholder: string; shortcutHint: string };
  theme: { toLight: string; toDark: string };
  langSwitch: { label: string; switchTo: string };
  callout: { note: string; tip: string; warning: string };
  notFound: { title: string; body: string; home: string };
  glossary: { title: string; intro: string };
  footer: { built: string };
  sandbox: {
    run: string;
    stop: string;
    edit: string;
    reset: string;
    edited: string;
    editorLabel: (file: string) => string;
    files: string;
    serverKind: string;
    /** Beside a Python sandbox: the runtime's versions, filled in at build time from runtime.json ({python}, {fastapi}). */
    versions: string;
    /** Its tooltip: where those versions apply. */
    versionsTitle: string;
    console: string;
    consoleEmpty: string;
    /** The bar above a console whose start is no longer on screen ({n}: lines). */
    consoleCut: { hiddenLines: string; hiddenStart: string; notKept: string };
    downloadOutput: string;
    /**
     * Shown (and announced) while Monaco has focus: how to leave it. {toggle} is the
     * platform's shortcut for Monaco's "Tab moves focus" mode.
     */
    editorHint: { leave: string; tabMoves: string };
    /** Caption put on the lesson's printed output under a sandbox once the reader runs it. */
    expectedOutput: string;
    status: {
      idle: string;
      connecting: string;
      queued: (position: number) => string;
      /** The same, in the hosted runner's queue (shared by every reader of the site). */
      queuedRemote: (position: number) => string;
      running: string;
      exited: (code: string, seconds: string) => string;
      exitCode: (code: string) => string;
      /** The first run on a page starts an in-browser runtime. */
      booting: Record<'pyodide' | 'webcontainer', string>;
      starting: string;
    };
    /** Label of the engine picker. */
    engine: string;
    /** Why nothing on this page can run a sandbox; {needs}, {detail} and {engine} are filled in. */
    why: {
      needs: string;
      pythonServer: string;
      notIsolated: string;
      noSharedMemory: string;
      noWorkers: string;
      localProblem: string;
    };
    needNames: Record<'threads' | 'processes' | 'sqlite' | 'postgres' | 'redis' | 'upstream', string>;
    /** A run could not start its engine: {engine}, {detail}. */
    bootFailed: string;
    webcontainerOffline: string;
    ranWith: (engine: string) => string;
    engines: Record<'local' | 'remote' | 'pyodide' | 'webcontainer', string>;
    /** How the hosted runner isolates runs (its hello), shown by "Ran on …". */
    isolation: Record<'bwrap' | 'none', string>;
    /** {engine} with {isolation}. */
    withIsolation: string;
    /**
     * The hosted runner (PUBLIC_RUNNER_URL): why a run went to an in-browser engine instead
     * ({why}: `unreachable` or a reason; {engine}), and what is said when nothing else can run it.
     */
    remote: { unreachable: string; fallback: string; noFallback: string };
    unreachable: string;
    unavailable: (why: string) => string;
    shortcut: string;
    preview: PreviewStrings;
  };
  /** The drawing's own strings are the renderer's (src/timeline/section.ts); the rest frame it. */
  timeline: SectionStrings & {
    title: string;
    /** with {date} */
    recorded: string;
    thisRun: string;
    previousRun: string;
    exportTrace: string;
  };
}

export const ui: Record<Locale, UiStrings> = {
  en: {
    siteName: 'AsyncLab',
    tagline: 'See how async servers really behave.',
    skipToContent: 'Skip to content',
    nav: {
      course: 'Course',
      lessonsHeading: 'Lessons',
      onThisPage: 'On this page',
      previous: 'Previous',
      next: 'Next',
    },
    home: {
      title: 'AsyncLab — asyncio and FastAPI, seen running',
      intro:
        'A hands-on course on asynchronous Python. Every example is real code you can edit and run; a timeline shows what ran at the same time, what waited, and when the event loop was blocked.',
      courseHeading: 'The course',
      lesson: (n) => `Lesson ${n}`,
      start: 'Start with lesson 1',
    },
    chooser: {
      title: 'AsyncLab',
      intro: 'Choose your language.',
    },
    lesson: {
      objectivesHeading: 'In this lesson',
    },
    search: {
      open: 'Search',
      placeholder: 'Search lessons',
      shortcutHint: 'Press / to search',
    },
    theme: { toLight: 'Switch to light theme', toDark: 'Switch to dark theme' },
    langSwitch: { label: 'Language', switchTo: 'Read this page in' },
    callout: { note: 'Note', tip: 'Tip', warning: 'Watch out' },
    notFound: {
      title: 'Page not found',
      body: 'There is no page at this address. It may have moved, or the link may be mistyped.',
      home: 'Back to the course',
    },
    footer: { built: 'AsyncLab — an interactive course on async Python.' },
    glossary: { title: 'Glossary', intro: 'The words this course uses, each with its Chinese counterpart.' },
    sandbox: {
      run: 'Run',
      stop: 'Stop',
      edit: 'Edit',
      reset: 'Reset',
      edited: 'edited',
      editorLabel: (file) => `Code editor: ${file}`,
      files: 'Files',
      serverKind: 'server + load',
      versions: 'Python {python} · FastAPI {fastapi}',
      versionsTitle: 'The versions this sandbox runs on the local runner and in its recorded timeline (in the browser, Pyodide runs its own Python with the standard library only)',
      console: 'Output',
      consoleEmpty: 'Press Run to execute this code for real.',
      consoleCut: {
        hiddenLines: '{n} earlier lines are hidden to keep the page responsive.',
        hiddenStart: 'The start of this long line is hidden to keep the page responsive.',
        notKept: '[the first {n} lines were not kept by the page]',
      },
      downloadOutput: 'Download the full output',
      editorHint: {
        leave: 'Tab indents · to leave the editor: Esc, then Tab (or Shift+Tab) · {toggle}: Tab moves focus',
        tabMoves: 'Tab now moves focus out of the editor · {toggle}: Tab indents again',
      },
      expectedOutput: 'The lesson’s output, for comparison with your run in the console above',
      status: {
        idle: 'Ready to run',
        connecting: 'Connecting to the runner…',
        queued: (n) => `Waiting for a free runner slot (position ${n})…`,
        queuedRemote: (n) => `Waiting in the hosted runner's queue (position ${n})…`,
        running: 'Running…',
        exited: (code, s) => `Exited with ${code} after ${s} s`,
        exitCode: (code) => `code ${code}`,
        booting: {
          pyodide: 'Starting Python in your browser (first run on this page only)…',
          webcontainer: 'Starting a WebContainer in your browser (first run on this page only)…',
        },
        starting: 'Starting…',
      },
      engine: 'Engine',
      why: {
        needs: 'This sandbox needs {needs}, which only the local runner provides. Run `npm start` locally to run it; the timeline below is a recorded run.',
        pythonServer: 'A Python server needs real sockets and a thread pool, which only the local runner provides. Run `npm start` locally to run it; the timeline below is a recorded run.',
        notIsolated: 'Node sandboxes run in a WebContainer, which needs a cross-origin isolated page (COOP and COEP headers) and network access to StackBlitz. This page is not cross-origin isolated, so run `npm start` locally instead; the timeline below is a recorded run.',
        noSharedMemory: 'This browser cannot run WebContainers (they need SharedArrayBuffer; Safari before 16.4, iOS browsers and blocked third-party storage cannot). Run `npm start` locally instead; the timeline below is a recorded run.',
        noWorkers: 'This browser cannot run Python here (it needs Web Workers and WebAssembly). Run `npm start` locally instead; the timeline below is a recorded run.',
        localProblem: 'The local runner is off: {detail}.',
      },
      needNames: { threads: 'threads', processes: 'child processes', sqlite: 'SQLite', postgres: 'PostgreSQL', redis: 'Redis', upstream: 'a fake upstream service' },
      bootFailed: '{engine} could not start: {detail}',
      webcontainerOffline: 'WebContainers could not start: StackBlitz\'s servers did not answer ({detail}). They need network access; offline, run `npm start` locally instead.',
      ranWith: (engine) => `Ran on ${engine}`,
      engines: { local: 'the local runner', remote: 'the hosted runner', pyodide: 'Pyodide in your browser', webcontainer: 'a WebContainer in your browser' },
      isolation: { bwrap: 'isolated by bubblewrap', none: 'without isolation' },
      withIsolation: '{engine} ({isolation})',
      remote: {
        unreachable: 'it did not answer, or it refused this page',
        fallback: 'The hosted runner could not take this run ({why}), so it runs on {engine} instead.',
        noFallback: 'The hosted runner did not answer, or it refused this page. Try again in a moment, or run `npm start` locally.',
      },
      unreachable: 'The runner is unreachable: is `npm start` still running? Start it and press Run again.',
      unavailable: (why) => `No runner on this page: ${why}`,
      shortcut: 'Ctrl/⌘ + Enter runs',
      preview: {
        toggle: 'Live preview (keep the server running)',
        title: 'Live preview',
        note: 'The server keeps running until you press Stop (at most {s} s). Talk to it from here.',
        ended: 'The server has stopped. Run the sandbox again to talk to it.',
        path: 'Path',
        connect: 'Connect',
        disconnect: 'Disconnect',
        send: 'Send',
        requests: {
          title: 'Send a request',
          method: 'Method',
          body: 'JSON body (optional)',
          badJson: 'The body is not valid JSON: {detail}',
          sending: 'Sending…',
          answered: '{status} in {ms} ms',
          headers: 'Headers ({n})',
          empty: '(empty body)',
          redirect: 'The app answered with a redirect, which is not followed here.',
          failed: 'The request failed: {detail}',
        },
        refused: {
          ended: 'The server has stopped: run the sandbox again.',
          other: 'The runner refused the request ({status}): {detail}',
        },
        sse: {
          title: 'Server-sent events',
          connecting: 'Connecting…',
          open: 'Connected: each event appears below as the server sends it.',
          ended: 'The server ended the stream after {n} events.',
          closed: 'Disconnected after {n} events.',
          notStream: 'Not an event stream: {status} {detail}',
          events: 'Events received',
        },
        chat: {
          title: 'WebSocket chat',
          intro: 'Two clients of the same server: what one sends, the server may pass on to the other.',
          a: 'Client A',
          b: 'Client B',
          message: 'Message',
          received: 'Messages of {client}',
          connecting: 'Connecting…',
          open: 'Connected',
          closed: 'Closed (code {code}{reason})',
          failed: 'Could not connect',
          sent: 'sent',
          got: 'received',
        },
      },
    },
    timeline: {
      title: 'Timeline',
      recorded: 'recorded run ({date})',
      thisRun: 'this run',
      previousRun: 'previous run',
      exportTrace: 'Open in Perfetto (download JSON)',
      showTable: 'Show the timeline as a table',
      tableLater: 'The page’s script builds this table from the recorded trace; without it, the chart above and its summary say what ran when.',
      byEndpoint: 'By endpoint',
      group: '{count} requests, {wall} from first sent to last answered, at most {peak} at once',
      kinds: { request: 'request', handler: 'handler', task: 'task', loop: 'event loop blocked', thread: 'thread', process: 'process', other: '' },
      summary: '{wall} wall time · at most {peak} {kind}s at once · event loop blocked for {blocked} (longest by {culprit})',
      summaryNotBlocked: '{wall} wall time · at most {peak} {kind}s at once · the event loop was never blocked',
      incomplete: '(incomplete: the run ended before every span did)',
      laneGroup: '{count} × {name}, at most {peak} at once',
      processStarted: 'Time 0 is the first traced activity; the process had started {t} earlier (interpreter, imports, server start-up).',
      groupLater: 'Each lane of this group is drawn from the recorded trace, which loads when you point at or tab into the sandbox; the row above sums them up.',
      legend: {
        title: 'Key',
        request: 'request (client side, sent → answered)',
        handler: 'handler (server side)',
        taskWaiting: 'task alive, waiting (outlined)',
        taskRunning: 'task running on the loop (solid)',
        loop: 'event loop blocked',
        thread: 'work on a thread',
        process: 'work in another process',
        received: 'message received',
        sent: 'message sent',
        group: 'similar lanes folded into one row (its height: how many at once); open it to see each',
      },
      nothingTraced: 'Nothing was traced in this run: no task, request or thread to draw.',
      failedEmpty: 'Nothing to draw: the run ended before any traced activity ({outcome}). The console above says why.',
      failedPartial: 'The run ended early ({outcome}): the timeline shows what was traced until then.',
      loopsTotal: '{blocked} summed over the workers\' loops',
      loopLane: 'event loop {name}',
      instant: 'instant',
      instants: '{count} events',
      tableCaption: 'Every span and instant of the run',
      columns: { lane: 'Lane', span: 'Span', start: 'Start', end: 'End', duration: 'Duration' },
      ms: 'ms',
      s: 's',
    },
  },
  zh: {
    siteName: 'AsyncLab',
    tagline: '亲眼看看异步服务器到底怎么运行。',
    skipToContent: '跳到正文',
    nav: {
      course: '课程',
      lessonsHeading: '课程目录',
      onThisPage: '本页内容',
      previous: '上一课',
      next: '下一课',
    },
    home: {
      title: 'AsyncLab — 看得见的 asyncio 与 FastAPI',
      intro:
        '一门动手学异步 Python 的课程。每个示例都是可以直接修改、运行的真实代码；时间线会画出哪些任务在同时运行、哪些在排队等待，以及事件循环在什么时候被卡住。',
      courseHeading: '课程列表',
      lesson: (n) => `第 ${n} 课`,
      start: '从第 1 课开始',
    },
    chooser: {
      title: 'AsyncLab',
      intro: '请选择语言。',
    },
    lesson: {
      objectivesHeading: '本课要点',
    },
    search: {
      open: '搜索',
      placeholder: '搜索课程',
      shortcutHint: '按 / 键搜索',
    },
    theme: { toLight: '切换到浅色主题', toDark: '切换到深色主题' },
    langSwitch: { label: '语言', switchTo: '切换语言：' },
    callout: { note: '说明', tip: '提示', warning: '注意' },
    notFound: {
      title: '页面不存在',
      body: '这个地址上没有页面，可能已经移动，也可能是链接写错了。',
      home: '返回课程首页',
    },
    footer: { built: 'AsyncLab — 异步 Python 互动课程。' },
    glossary: { title: '术语表', intro: '本课程用到的术语，每条都附有对应的英文说法。' },
    sandbox: {
      run: '运行',
      stop: '停止',
      edit: '编辑',
      reset: '还原',
      edited: '已修改',
      editorLabel: (file) => `代码编辑器：${file}`,
      files: '文件',
      serverKind: '服务器 + 负载',
      versions: 'Python {python} · FastAPI {fastapi}',
      versionsTitle: '本地运行器和录制的时间线所用的版本（在浏览器里由 Pyodide 运行时，用的是它自带的 Python，只有标准库）',
      console: '输出',
      consoleEmpty: '点击“运行”，真实地执行这段代码。程序打印的内容是英文，与代码保持一致。',
      consoleCut: {
        hiddenLines: '为了让页面保持流畅，前面的 {n} 行已隐藏。',
        hiddenStart: '这一行太长，为了让页面保持流畅，它的开头已隐藏。',
        notKept: '[页面没有保留最前面的 {n} 行]',
      },
      downloadOutput: '下载完整输出',
      editorHint: {
        leave: 'Tab 键用于缩进 · 离开编辑器：先按 Esc，再按 Tab（或 Shift+Tab）· {toggle}：让 Tab 键移动焦点',
        tabMoves: '现在 Tab 键会把焦点移出编辑器 · {toggle}：恢复用 Tab 缩进',
      },
      expectedOutput: '课文给出的输出，可与上方控制台里你的运行结果对照（程序打印的内容是英文，与代码一致）',
      status: {
        idle: '可以运行',
        connecting: '正在连接运行器…',
        queued: (n) => `正在排队等待空闲的运行位置（第 ${n} 位）…`,
        queuedRemote: (n) => `正在托管运行器的队列中等待（第 ${n} 位）…`,
        running: '运行中…',
        exited: (code, s) => `已退出（${code}），用时 ${s} 秒`,
        exitCode: (code) => `退出码 ${code}`,
        booting: {
          pyodide: '正在浏览器中启动 Python（每个页面只在第一次运行时启动）…',
          webcontainer: '正在浏览器中启动 WebContainer（每个页面只在第一次运行时启动）…',
        },
        starting: '正在启动…',
      },
      engine: '运行环境',
      why: {
        needs: '这个沙箱需要{needs}，只有本地运行器能提供。请在本地运行 `npm start` 后再试；下方的时间线是预先录制的运行结果。',
        pythonServer: 'Python 服务器需要真实的 socket 和线程池，只有本地运行器能提供。请在本地运行 `npm start` 后再试；下方的时间线是预先录制的运行结果。',
        notIsolated: 'Node 沙箱在 WebContainer 中运行，它要求页面启用跨源隔离（COOP 与 COEP 响应头），并且能访问 StackBlitz 的服务器。本页没有启用跨源隔离，请改为在本地运行 `npm start`；下方的时间线是预先录制的运行结果。',
        noSharedMemory: '这个浏览器无法运行 WebContainer（它依赖 SharedArrayBuffer；16.4 之前的 Safari、iOS 上的浏览器以及禁用了第三方存储的浏览器都不支持）。请改为在本地运行 `npm start`；下方的时间线是预先录制的运行结果。',
        noWorkers: '这个浏览器无法在页面中运行 Python（需要 Web Worker 和 WebAssembly）。请改为在本地运行 `npm start`；下方的时间线是预先录制的运行结果。',
        localProblem: '本地运行器未启用：{detail}。',
      },
      needNames: { threads: '多线程', processes: '子进程', sqlite: 'SQLite', postgres: 'PostgreSQL', redis: 'Redis', upstream: '模拟的上游服务' },
      bootFailed: '{engine}启动失败：{detail}',
      webcontainerOffline: 'WebContainer 启动失败：StackBlitz 的服务器没有响应（{detail}）。它需要联网；离线时请改为在本地运行 `npm start`。',
      ranWith: (engine) => `运行环境：${engine}`,
      engines: { local: '本地运行器', remote: '托管运行器', pyodide: '浏览器中的 Pyodide', webcontainer: '浏览器中的 WebContainer' },
      isolation: { bwrap: '由 bubblewrap 隔离', none: '未隔离' },
      withIsolation: '{engine}（{isolation}）',
      remote: {
        unreachable: '它没有响应，或拒绝了这个页面的连接',
        fallback: '托管运行器无法接受这次运行（{why}），已改用另一种运行环境：{engine}。',
        noFallback: '托管运行器没有响应，或拒绝了这个页面的连接。请稍后再试，或者在本地运行 `npm start`。',
      },
      unreachable: '连接不上运行器：`npm start` 还在运行吗？启动它之后再点一次“运行”。',
      unavailable: (why) => `本页没有可用的运行器：${why}`,
      shortcut: 'Ctrl/⌘ + Enter 运行',
      preview: {
        toggle: '实时预览（让服务器保持运行）',
        title: '实时预览',
        note: '服务器会一直运行，直到你点击“停止”（最长 {s} 秒）。可以在这里直接和它交互。',
        ended: '服务器已经停止。再运行一次沙箱，就能继续和它交互。',
        path: '路径',
        connect: '连接',
        disconnect: '断开',
        send: '发送',
        requests: {
          title: '发送请求',
          method: '方法',
          body: 'JSON 请求体（可选）',
          badJson: '请求体不是合法的 JSON：{detail}',
          sending: '正在发送…',
          answered: '{status}，用时 {ms} 毫秒',
          headers: '响应头（{n} 个）',
          empty: '（响应体为空）',
          redirect: '应用返回了重定向，这里不会跟着跳转。',
          failed: '请求失败：{detail}',
        },
        refused: {
          ended: '服务器已经停止：请重新运行沙箱。',
          other: '运行器拒绝了这个请求（{status}）：{detail}',
        },
        sse: {
          title: '服务器发送事件（SSE）',
          connecting: '正在连接…',
          open: '已连接：服务器每发出一个事件，下面就会多一行。',
          ended: '服务器发完 {n} 个事件后结束了事件流。',
          closed: '已断开，共收到 {n} 个事件。',
          notStream: '这不是事件流：{status} {detail}',
          events: '收到的事件',
        },
        chat: {
          title: 'WebSocket 聊天',
          intro: '同一个服务器的两个客户端：一个发出的消息，服务器可以转发给另一个。',
          a: '客户端 A',
          b: '客户端 B',
          message: '消息',
          received: '{client}的消息',
          connecting: '正在连接…',
          open: '已连接',
          closed: '已关闭（代码 {code}{reason}）',
          failed: '连接失败',
          sent: '发出',
          got: '收到',
        },
      },
    },
    timeline: {
      title: '时间线',
      recorded: '预先录制的运行（{date}）',
      thisRun: '本次运行',
      previousRun: '上一次运行',
      exportTrace: '在 Perfetto 中查看（下载 JSON）',
      showTable: '以表格形式查看时间线',
      tableLater: '这张表格由页面脚本根据录制的追踪数据生成；没有脚本时，上方的图表及其摘要同样说明了各项工作何时运行。',
      byEndpoint: '按端点统计',
      group: '{count} 个请求，从第一个发出到最后一个返回共 {wall}，最多 {peak} 个同时进行',
      kinds: { request: '请求', handler: '处理函数', task: '任务', loop: '事件循环阻塞', thread: '线程', process: '进程', other: '' },
      summary: '总耗时 {wall} · 最多 {peak} 个{kind}同时进行 · 事件循环被阻塞 {blocked}（最长一次由 {culprit} 造成）',
      summaryNotBlocked: '总耗时 {wall} · 最多 {peak} 个{kind}同时进行 · 事件循环从未被阻塞',
      incomplete: '（不完整：运行在所有区间结束之前就停止了）',
      laneGroup: '{count} 个 {name}，最多 {peak} 个同时进行',
      processStarted: '时间 0 是第一个被追踪的活动；进程在此之前 {t} 就已启动（解释器、导入模块、服务器启动）。',
      groupLater: '这一组的每条泳道要等录制的追踪数据加载后才画出：指针移到沙盒上或用 Tab 键进入沙盒时即开始加载。上面这一行汇总了它们。',
      legend: {
        title: '图例',
        request: '请求（客户端，从发出到收到响应）',
        handler: '处理函数（服务器端）',
        taskWaiting: '任务存活、正在等待（空心）',
        taskRunning: '任务正在事件循环上运行（实心）',
        loop: '事件循环被阻塞',
        thread: '在线程中执行的工作',
        process: '在另一个进程中执行的工作',
        received: '收到消息',
        sent: '发出消息',
        group: '相似的泳道合为一行（高度表示同时进行的数量）；展开可逐条查看',
      },
      nothingTraced: '这次运行没有追踪到任何内容：没有可画的任务、请求或线程。',
      failedEmpty: '没有可画的内容：运行在任何被追踪的活动之前就结束了（{outcome}）。原因见上方控制台。',
      failedPartial: '运行提前结束（{outcome}）：时间线只显示在此之前追踪到的内容。',
      loopsTotal: '{blocked}（各 worker 的事件循环合计）',
      loopLane: '事件循环 {name}',
      instant: '瞬时',
      instants: '{count} 个事件',
      tableCaption: '本次运行的所有区间和瞬时事件',
      columns: { lane: '泳道', span: '区间', start: '开始', end: '结束', duration: '时长' },
      ms: '毫秒',
      s: '秒',
    },
  },
};

export function useStrings(locale: Locale): UiStrings {
  return ui[locale];
}
