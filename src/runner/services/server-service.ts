/**
 * What every per-run service backed by one server process has in common: its pid, whether
 * it still serves, and a release that runs once: stop the server (a no-op when the run's
 * cgroup has already killed it) and remove its private folder. Postgres and Redis add how
 * they start and what the run is told.
 */
import { rm } from 'node:fs/promises';
import type { ServerProcess } from './service-process.ts';
import type { RunService, ServiceMount, ServiceName } from './types.ts';

export interface ServerParts {
  server: ServerProcess;
  /** The server's private folder on the host (socket, /etc, config); removed on release. */
  dir: string;
  startMs: number;
  env: Record<string, string>;
  mounts: ServiceMount[];
}

export abstract class ServerService implements RunService {
  abstract readonly name: ServiceName;
  readonly startMs: number;
  readonly env: Record<string, string>;
  readonly mounts: ServiceMount[];
  protected readonly server: ServerProcess;
  protected readonly dir: string;
  private releasing: Promise<void> | undefined;

  constructor(parts: ServerParts) {
    this.server = parts.server;
    this.dir = parts.dir;
    this.startMs = parts.startMs;
    this.env = parts.env;
    this.mounts = parts.mounts;
  }

  get pid(): number {
    return this.server.pid;
  }

  alive(): boolean {
    return !this.server.hasExited() && !this.releasing;
  }

  /** Default: the server itself died without being asked to (a server with workers also reads its log). */
  lostAProcess(): boolean {
    return this.server.hasExited() && !this.releasing;
  }

  release(): Promise<void> {
    this.releasing ??= (async () => {
      await this.shutDown();
      await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    })();
    return this.releasing;
  }

  /** Ends the server; called once. Its data is on a tmpfs of its own and goes with it. */
  protected abstract shutDown(): Promise<void>;
}
