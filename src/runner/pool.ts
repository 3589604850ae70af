/**
 * A bounded pool with a bounded FIFO queue: at most `concurrency` tasks run; up to
 * `queueLimit` wait and are told their position whenever it changes; beyond that,
 * `submit` refuses at once so the caller can say "busy" instead of hanging.
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

export class Pool {
  private running = 0;
  private readonly waiting: Array<{ task: PoolTask; start: () => void }> = [];

  readonly concurrency: number;
  readonly queueLimit: number;

  constructor(concurrency: number, queueLimit: number) {
    this.concurrency = concurrency;
    this.queueLimit = queueLimit;
  }

  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  submit(task: PoolTask): Submitted | 'busy' {
    if (this.running < this.concurrency) return this.start(task);
    if (this.waiting.length >= this.queueLimit) return 'busy';
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const entry = {
      task,
      start: () => void this.start(task).done.then(resolveDone),
    };
    this.waiting.push(entry);
    task.onQueued(this.waiting.length);
    return {
      done,
      cancel: () => {
        const index = this.waiting.indexOf(entry);
        if (index < 0) return false;
        this.waiting.splice(index, 1);
        this.announcePositions(index);
        resolveDone();
        return true;
      },
    };
  }

  private start(task: PoolTask): Submitted {
    this.running += 1;
    const done = task
      .run()
      .catch(() => undefined)
      .finally(() => {
        this.running -= 1;
        const next = this.waiting.shift();
        if (next) {
          this.announcePositions(0);
          next.start();
        }
      });
    return { done, cancel: () => false };
  }

  private announcePositions(from: number): void {
    for (let i = from; i < this.waiting.length; i++) this.waiting[i]!.task.onQueued(i + 1);
  }
}
