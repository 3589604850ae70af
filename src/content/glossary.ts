/**
 * The glossary: every term in both languages, typed so a term cannot exist in one
 * language only. Lessons link the first use of a term to `/{lang}/glossary/#<id>`.
 */
export interface GlossaryEntry {
  term: string;
  definition: string;
}

export interface GlossaryTerm {
  id: string;
  en: GlossaryEntry;
  zh: GlossaryEntry;
}

export const glossary: GlossaryTerm[] = [
  {
    id: 'event-loop',
    en: { term: 'event loop', definition: 'The scheduler at the heart of asyncio: one thread that runs one coroutine step at a time, switches at each await that suspends, and sleeps in the operating system when nothing is ready.' },
    zh: { term: '事件循环', definition: 'asyncio 的核心调度器：在一个线程上一次只运行一个协程的一小段，在会挂起的 await 处切换；没有可运行的任务时，就在操作系统里等待事件发生。' },
  },
  {
    id: 'coroutine',
    en: { term: 'coroutine', definition: 'What calling an async def function returns: a paused computation that runs only when awaited or wrapped in a task, and can suspend at each await.' },
    zh: { term: '协程', definition: '调用 async def 函数得到的对象：一段处于暂停状态的计算，只有被 await 或被包装成任务后才会运行，并且可以在每个 await 处挂起。' },
  },
  {
    id: 'task',
    en: { term: 'task', definition: 'A coroutine scheduled on the event loop (asyncio.create_task, gather): it starts running without being awaited, and can be awaited, cancelled or inspected.' },
    zh: { term: '任务', definition: '被调度到事件循环上的协程（asyncio.create_task、gather 都会创建）：不必等人 await 就会开始运行，可以被 await、取消或查询状态。' },
  },
  {
    id: 'awaitable',
    en: { term: 'awaitable', definition: 'Anything await accepts: coroutines, tasks and futures.' },
    zh: { term: '可等待对象', definition: '能放在 await 后面的东西：协程、任务和 future。' },
  },
  {
    id: 'future',
    en: { term: 'future', definition: 'A placeholder for a result that will be set later; awaiting it suspends until then. Tasks are futures that drive a coroutine.' },
    zh: { term: 'future', definition: '代表“稍后才会有的结果”的占位对象；await 它会一直挂起到结果被设置。任务就是驱动一个协程的 future。' },
  },
  {
    id: 'async-context-manager',
    en: { term: 'async context manager', definition: 'An object used with async with: its __aenter__ and __aexit__ are awaited on the way into and out of the block, so opening and closing can wait (connections, locks, task groups). @contextlib.asynccontextmanager makes one from an async generator.' },
    zh: { term: '异步上下文管理器', definition: '配合 async with 使用的对象：进入和离开代码块时分别 await 它的 __aenter__ 和 __aexit__，所以打开和关闭都可以等待（连接、锁、任务组）。@contextlib.asynccontextmanager 可以把一个异步生成器变成异步上下文管理器。' },
  },
  {
    id: 'async-generator',
    en: { term: 'async generator', definition: 'An async def function that contains yield: async for takes its items one by one, and it may await between them (the next page, the next row).' },
    zh: { term: '异步生成器', definition: '函数体里带 yield 的 async def 函数：async for 逐项取出它产生的值，它可以在两项之间 await（等下一页、下一行）。' },
  },
  {
    id: 'concurrency',
    en: { term: 'concurrency', definition: 'Several pieces of work in progress at the same time, taking turns; on one thread only their waits overlap.' },
    zh: { term: '并发', definition: '多项工作在同一段时间内都处于进行中，轮流推进；在单个线程上，真正重叠的只有它们的等待。' },
  },
  {
    id: 'parallelism',
    en: { term: 'parallelism', definition: 'Several pieces of work executing at the same instant, on different CPU cores.' },
    zh: { term: '并行', definition: '多项工作在同一时刻、在不同的 CPU 核心上同时执行。' },
  },
  {
    id: 'blocking-call',
    en: { term: 'blocking call', definition: 'A call that keeps its thread until it returns (time.sleep, a sync HTTP client, a sync database driver, long computation). Inside async def it freezes the event loop and every request on it.' },
    zh: { term: '阻塞调用', definition: '返回之前一直占着所在线程的调用（time.sleep、同步 HTTP 客户端、同步数据库驱动、长时间计算）。放在 async def 里，会冻结事件循环以及它上面的所有请求。' },
  },
  {
    id: 'io-bound',
    en: { term: 'I/O-bound', definition: 'Work whose time is spent waiting for something outside the process (network, disk, database): what async helps with.' },
    zh: { term: 'I/O 密集型', definition: '时间主要花在等待进程外部（网络、磁盘、数据库）的工作；异步正是为它准备的。' },
  },
  {
    id: 'cpu-bound',
    en: { term: 'CPU-bound', definition: 'Work whose time is spent computing; concurrency does not make it faster, more cores (processes) can.' },
    zh: { term: 'CPU 密集型', definition: '时间主要花在计算上的工作；并发不会让它变快，更多的核心（多进程）才可能。' },
  },
  {
    id: 'thread-pool',
    en: { term: 'thread pool', definition: 'A set of worker threads that run blocking functions off the event loop: asyncio.to_thread and run_in_executor use one, FastAPI runs def endpoints in AnyIO’s.' },
    zh: { term: '线程池', definition: '一组工作线程，用来在事件循环之外运行阻塞函数：asyncio.to_thread 和 run_in_executor 用的是一个，FastAPI 的 def 端点用的是 AnyIO 的那个。' },
  },
  {
    id: 'anyio-limiter',
    en: { term: 'AnyIO thread limiter', definition: 'The CapacityLimiter (40 tokens by default) that caps how many AnyIO worker threads run at once, and so how many def endpoints run concurrently in FastAPI.' },
    zh: { term: 'AnyIO 容量限制器', definition: '默认 40 个令牌的 CapacityLimiter，限制同时运行的 AnyIO 工作线程数，也就限制了 FastAPI 里能同时运行的 def 端点数。' },
  },
  {
    id: 'gil',
    en: { term: 'GIL', definition: 'CPython’s global interpreter lock: only one thread runs Python bytecode at a time, so threads do not speed up CPU-bound Python code.' },
    zh: { term: 'GIL', definition: 'CPython 的全局解释器锁：同一时刻只有一个线程在执行 Python 字节码，所以多线程无法加速 CPU 密集型的 Python 代码。' },
  },
  {
    id: 'process-pool',
    en: { term: 'process pool', definition: 'Worker processes (concurrent.futures.ProcessPoolExecutor), each with its own interpreter and GIL: the way to run CPU-bound Python in parallel.' },
    zh: { term: '进程池', definition: '一组工作进程（concurrent.futures.ProcessPoolExecutor），每个进程有自己的解释器和 GIL：让 CPU 密集型 Python 代码真正并行的办法。' },
  },
  {
    id: 'semaphore',
    en: { term: 'semaphore', definition: 'A counter that lets at most N holders through at once (asyncio.Semaphore): the usual way to cap concurrency.' },
    zh: { term: '信号量', definition: '最多同时放行 N 个持有者的计数器（asyncio.Semaphore），是限制并发数的常用手段。' },
  },
  {
    id: 'timeout',
    en: { term: 'timeout', definition: 'A deadline after which a wait is abandoned (asyncio.timeout, asyncio.wait_for): the awaited work is cancelled and TimeoutError raised.' },
    zh: { term: '超时', definition: '等待的最后期限（asyncio.timeout、asyncio.wait_for）：到期后被等待的工作会被取消，并抛出 TimeoutError。' },
  },
  {
    id: 'cancellation',
    en: { term: 'cancellation', definition: 'Asking a task to stop: CancelledError is raised at its current await, so finally blocks can clean up; code should re-raise it, not swallow it.' },
    zh: { term: '取消', definition: '请求一个任务停下：它当前所在的 await 处会抛出 CancelledError，finally 块借此做清理；代码应当把它重新抛出，而不是吞掉。' },
  },
  {
    id: 'hedged-request',
    en: { term: 'hedged request', definition: 'Asking a second server when the first has not answered within its usual time, keeping whichever answer comes first and cancelling the other: cuts the slow tail for a few percent more load. Only for requests safe to send twice.' },
    zh: { term: '对冲请求', definition: '第一台服务器在通常的时间内没有答复时，再向第二台发出同样的请求，用先到的答复并取消另一个：多花几个百分点的负载，砍掉慢请求的长尾。只适用于可以安全地发送两次的请求。' },
  },
  {
    id: 'back-pressure',
    en: { term: 'back pressure', definition: 'A slow stage making a fast one wait instead of letting work pile up between them: asyncio.Queue(maxsize=N), whose put() waits while the queue is full.' },
    zh: { term: '背压', definition: '慢的一环让快的一环等一等，而不是任由工作在两者之间越堆越多：asyncio.Queue(maxsize=N) 就是这样，队列满时 put() 会等待。' },
  },
  {
    id: 'lifespan',
    en: { term: 'lifespan', definition: 'The startup and shutdown hook of an ASGI app (FastAPI(lifespan=...)): where shared clients and pools are created once and closed at the end.' },
    zh: { term: 'lifespan（生命周期）', definition: 'ASGI 应用的启动和关闭钩子（FastAPI(lifespan=...)）：共享的客户端、连接池在这里创建一次，结束时关闭。' },
  },
  {
    id: 'asgi',
    en: { term: 'ASGI', definition: 'The async interface between Python web servers (uvicorn) and frameworks (Starlette, FastAPI): each request is a coroutine on the server’s event loop.' },
    zh: { term: 'ASGI', definition: 'Python Web 服务器（uvicorn）与框架（Starlette、FastAPI）之间的异步接口：每个请求都是服务器事件循环上的一个协程。' },
  },
  {
    id: 'graceful-shutdown',
    en: { term: 'graceful shutdown', definition: 'Stopping a server without dropping work: on SIGTERM it stops accepting connections, lets the requests in flight finish (uvicorn: up to --timeout-graceful-shutdown, by default without limit), then runs the lifespan shutdown.' },
    zh: { term: '优雅关闭', definition: '停止服务器而不丢下手头的工作：收到 SIGTERM 后不再接受新连接，让正在处理的请求做完（uvicorn 最多等 --timeout-graceful-shutdown 秒，默认不设上限），然后执行 lifespan 的关闭阶段。' },
  },
];
