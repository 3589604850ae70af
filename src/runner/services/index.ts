/**
 * The runner's backing services. Every run that needs PostgreSQL or Redis gets a server of
 * its own, started inside the run's cgroup (its memory, processes and CPU count in the
 * run's budget) and stopped with the run; the sandbox reaches it through environment
 * variables and its socket, bind-mounted. PostgreSQL's cluster is initialised once per
 * runner, as a template each run's server starts from a copy of. Closing the runner stops
 * every server still running and removes the template.
 */
import type { SandboxManifest } from '../../protocol/manifest.ts';
import { PostgresTemplate, postgresProcesses, type PostgresOptions } from './postgres.ts';
import { redisProcesses, startRedis, type RedisOptions } from './redis.ts';
import { sweepAbandoned, type ServiceSystem } from './service-process.ts';
import { serviceNames, ServiceUnavailableError, type PathView, type RunService, type ServiceMount, type ServiceName } from './types.ts';

export { ServiceUnavailableError, serviceLabels, type ServiceName, type RunService } from './types.ts';

export interface ServicesOptions {
  /** 'host' only when sandboxes run unisolated (they then use the host's socket paths). */
  view: PathView;
  /** Run the servers inside the pinned runtime root (src/runtime); absent: the host's own programs. */
  system?: ServiceSystem | undefined;
  postgres?: PostgresOptions;
  redis?: RedisOptions;
}

/** Everything one run got from the services it needs. */
export interface RunServices {
  env: Record<string, string>;
  mounts: ServiceMount[];
  servers: RunService[];
  /** Stops the run's servers and removes their folders (a no-op for a server the run's cgroup already killed). */
  release(): Promise<void>;
}

/** Processes and threads the services add to a run's pids budget (on top of the sandbox's own). */
export function serviceProcesses(names: readonly ServiceName[]): number {
  return names.reduce((sum, name) => sum + (name === 'postgres' ? postgresProcesses : redisProcesses), 0);
}

/** The Python module a Python sandbox needs to talk to each service (Debian: python3-asyncpg, python3-redis). */
export const pythonDrivers: Record<ServiceName, { module: string; apt: string }> = {
  postgres: { module: 'asyncpg', apt: 'python3-asyncpg' },
  redis: { module: 'redis', apt: 'python3-redis' },
};

export function servicesNeeded(manifest: Pick<SandboxManifest, 'needs'>): ServiceName[] {
  return serviceNames.filter((name) => manifest.needs.includes(name));
}

/**
 * A Python sandbox that needs a service but whose interpreter lacks the driver would fail
 * with an ImportError deep in its output; say so up front instead.
 */
export function missingDriver(manifest: Pick<SandboxManifest, 'needs' | 'language'>, pythonModules: readonly string[]): ServiceUnavailableError | undefined {
  if (manifest.language !== 'python') return undefined;
  for (const name of servicesNeeded(manifest)) {
    const driver = pythonDrivers[name];
    if (!pythonModules.includes(driver.module)) {
      return new ServiceUnavailableError(name, `its Python driver ${driver.module} is not in the sandbox runtime (add ${driver.apt} to sandboxes/_runtime/runtime.json)`);
    }
  }
  return undefined;
}

export class Services {
  private readonly options: ServicesOptions;
  private template: Promise<PostgresTemplate> | undefined;
  private swept: Promise<void> | undefined;
  private readonly live = new Set<RunService>();
  private closed = false;

  constructor(options: ServicesOptions) {
    this.options = options;
  }

  /** The servers running now, for diagnostics and tests. */
  running(name?: ServiceName): RunService[] {
    return [...this.live].filter((s) => s.alive() && (name === undefined || s.name === name));
  }

  /**
   * Starts a server of each service the run needs, its processes joining `cgroupProcs` (the
   * run's cgroup) before they start. Throws ServiceUnavailableError when one cannot be had;
   * nothing of the run is left then.
   */
  async attach(names: readonly ServiceName[], cgroupProcs?: readonly string[]): Promise<RunServices> {
    if (this.closed) throw new ServiceUnavailableError(names[0] ?? 'postgres', 'the runner is shutting down');
    // Folders left by a runner that was killed: once, before this runner's first server.
    this.swept ??= Promise.all(serviceNames.map((name) => sweepAbandoned(name))).then((found) => {
      const removed = found.flat();
      if (removed.length) console.warn(`[runner] removed ${removed.length} service folder(s) left by a runner that was killed: ${removed.join(', ')}`);
    });
    await this.swept;
    const placement = { view: this.options.view, cgroupProcs };
    const settled = await Promise.allSettled(names.map((name) => this.start(name, placement)));
    const servers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const release = async () => {
      const results = await Promise.allSettled(servers.map(async (s) => {
        await s.release();
        this.live.delete(s);
      }));
      const problem = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (problem) throw problem.reason;
    };
    if (failed || this.closed) {
      await release().catch(() => undefined);
      const err = (failed?.reason as Error | undefined) ?? new ServiceUnavailableError(names[0]!, 'the runner is shutting down');
      const name = failed ? names[settled.indexOf(failed)]! : names[0]!;
      throw err instanceof ServiceUnavailableError ? err : new ServiceUnavailableError(name, err.message);
    }
    return {
      env: Object.assign({}, ...servers.map((s) => s.env)) as Record<string, string>,
      mounts: servers.flatMap((s) => s.mounts),
      servers,
      release,
    };
  }

  /** Stops every server still running and removes the PostgreSQL template. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.live].map((s) => s.release()));
    this.live.clear();
    const template = await this.template?.catch(() => undefined);
    this.template = undefined;
    await template?.remove();
  }

  private async start(name: ServiceName, placement: { view: PathView; cgroupProcs?: readonly string[] | undefined }): Promise<RunService> {
    const server = name === 'postgres' ? await (await this.postgresTemplate()).start(placement) : await startRedis({ ...this.options.redis, system: this.options.system }, placement);
    this.live.add(server);
    return server;
  }

  /** One template per runner, shared by every run that asks meanwhile; a failed one is tried anew by the next run. */
  private postgresTemplate(): Promise<PostgresTemplate> {
    if (!this.template) {
      const pending = PostgresTemplate.prepare({ ...this.options.postgres, system: this.options.system });
      this.template = pending;
      pending.catch(() => {
        if (this.template === pending) this.template = undefined;
      });
    }
    return this.template;
  }

  /** How long the template took (undefined before the first PostgreSQL run). For diagnostics. */
  async postgresPrepareMs(): Promise<number | undefined> {
    return (await this.template?.catch(() => undefined))?.prepareMs;
  }
}
