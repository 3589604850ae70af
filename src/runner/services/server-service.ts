/**
 * What every service backed by one long-lived server process has in common: its pid,
 * whether it still serves, an idempotent stop, and releases that run once and only while
 * the server lives. Postgres and Redis add how they start, attach a run and shut down.
 */
import type { ServerProcess } from './service-process.ts';
import type { PathView, Service, ServiceAttachment, ServiceName } from './types.ts';

export abstract class ServerService implements Service {
  abstract readonly name: ServiceName;
  readonly startMs: number;
  protected readonly server: ServerProcess;
  private stopping: Promise<void> | undefined;

  constructor(server: ServerProcess, startMs: number) {
    this.server = server;
    this.startMs = startMs;
  }

  get pid(): number {
    return this.server.pid;
  }

  alive(): boolean {
    return !this.server.hasExited() && !this.stopping;
  }

  abstract attach(view: PathView): Promise<ServiceAttachment>;

  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  /** Ends the server and removes its data; called once. */
  protected abstract shutDown(): Promise<void>;

  /** A run's cleanup: at most once, and not after the server is gone (its data went with it). */
  protected releaseOnce(cleanup: () => Promise<void>): () => Promise<void> {
    let released = false;
    return async () => {
      if (released || !this.alive()) return;
      released = true;
      await cleanup();
    };
  }
}
