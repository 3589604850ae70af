/**
 * A bounded pool with fair, bounded queues: at most `concurrency` tasks run; the rest wait
 * in one queue per owner (a page's connection), served round-robin, so one owner's backlog
 * delays another's run by at most one run per other waiting owner, never by the whole
 * backlog. Each owner may have at most `perOwnerQueue` tasks waiting. The total `queueLimit`
 * never refuses an owner with nothing waiting: filling the queue from a few connections
 * cannot lock everyone else out (the number of owners is bounded by the runner's cap on
 * connections, so the total waiting is bounded by `queueLimit` plus that cap). Waiting tasks
 * are told their position, and again whenever it moves; beyond the limits, `submit` refuses
 * at once so the caller can say why instead of hanging.
 */
export interface PoolTask {
  run(): Promise<void>;
  /** Called with the 1-based queue position, and again each time it moves. */
  onQueued(position: number): void;
}

export interface Submitted {
  /** Drop the task if it is still waiting (true), or report it already started (false). */
  cancel(): boolean;
  done: Promise<void>;
}

/** Why a task was not taken: the whole queue is full, or its owner already has its share waiting. */
export type Refusal = { refused: 'busy' } | { refused: 'owner-queue-full'; waiting: number };

/** Whoever a task is for: any value compared by identity (ws.ts uses one object per connection). */
export type Owner = object;

interface Waiting {
  task: PoolTask;
  owner: Owner;
  start: () => void;
  position: number;
}

/** The owner of tasks submitted without one (the terminal CLI, tests): one queue between them. */
const anonymous: Owner = {};

export class Pool {
  private running = 0;
  /** Waiting tasks by owner, oldest first; the map's order is the round-robin order. */
  private readonly queues = new Map<Owner, Waiting[]>();

  readonly concurrency: number;
  readonly queueLimit: number;
  readonly perOwnerQueue: number;

  constructor(concurrency: number, queueLimit: number, perOwnerQueue = queueLimit) {
    this.concurrency = concurrency;
    this.queueLimit = queueLimit;
    this.perOwnerQueue = Math.max(1, perOwnerQueue);
  }

  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.waitingCount() };
  }

  /** Tasks of `owner` waiting now. */
  waitingFor(owner: Owner): number {
    return this.queues.get(owner)?.length ?? 0;
  }

  submit(task: PoolTask, owner: Owner = anonymous): Submitted | Refusal {
    if (this.running < this.concurrency) return this.start(task);
    const mine = this.waitingFor(owner);
    if (mine >= this.perOwnerQueue) return { refused: 'owner-queue-full', waiting: mine };
    if (mine > 0 && this.waitingCount() >= this.queueLimit) return { refused: 'busy' };
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const entry: Waiting = { task, owner, position: 0, start: () => void this.start(task).done.then(resolveDone) };
    const queue = this.queues.get(owner) ?? [];
    queue.push(entry);
    this.queues.set(owner, queue);
    this.announcePositions();
    return {
      done,
      cancel: () => {
        const list = this.queues.get(owner);
        const index = list?.indexOf(entry) ?? -1;
        if (!list || index < 0) return false;
        list.splice(index, 1);
        if (list.length === 0) this.queues.delete(owner);
        this.announcePositions();
        resolveDone();
        return true;
      },
    };
  }

  private waitingCount(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  /** The next task in round-robin order: the first owner's oldest; that owner then goes to the back. */
  private takeNext(): Waiting | undefined {
    const first = this.queues.entries().next();
    if (first.done) return undefined;
    const [owner, queue] = first.value;
    const next = queue.shift()!;
    this.queues.delete(owner);
    if (queue.length > 0) this.queues.set(owner, queue);
    return next;
  }

  private start(task: PoolTask): Submitted {
    this.running += 1;
    const done = task
      .run()
      .catch(() => undefined)
      .finally(() => {
        this.running -= 1;
        const next = this.takeNext();
        if (next) {
          this.announcePositions();
          next.start();
        }
      });
    return { done, cancel: () => false };
  }

  /**
   * Positions in the order the tasks will start: round after round, one task of each owner
   * in the round-robin order. Only tasks whose position changed hear about it.
   */
  private announcePositions(): void {
    const queues = [...this.queues.values()];
    let position = 0;
    for (let round = 0; ; round++) {
      let any = false;
      for (const queue of queues) {
        const entry = queue[round];
        if (!entry) continue;
        any = true;
        position += 1;
        if (entry.position !== position) {
          entry.position = position;
          entry.task.onQueued(position);
        }
      }
      if (!any) return;
    }
  }
}
