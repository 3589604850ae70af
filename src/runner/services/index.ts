/**
 * The runner's backing services: started lazily by the first run that needs one, shared
 * by the runs after it, stopped when the runner closes. A run gets its own slice of each
 * service it needs (environment variables plus the socket bind-mounted into its sandbox)
 * and gives it back, emptied, when it ends.
 */
import type { SandboxManifest } from '../../sandbox/manifest.ts';
import { startPostgres, type PostgresOptions } from './postgres.ts';
import { startRedis, type RedisOptions } from './redis.ts';
import type { ServiceSystem } from './service-process.ts';
import { serviceNames, ServiceUnavailableError, type PathView, type Service, type ServiceAttachment, type ServiceMount, type ServiceName } from './types.ts';

export { ServiceUnavailableError, serviceLabels, type ServiceName } from './types.ts';

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
  release(): Promise<void>;
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

const starters: Record<ServiceName, (o: ServicesOptions) => Promise<Service>> = {
  postgres: (o) => startPostgres({ ...o.postgres, system: o.system }),
  redis: (o) => startRedis({ ...o.redis, system: o.system }),
};

export class Services {
  private readonly options: ServicesOptions;
  private readonly starting = new Map<ServiceName, Promise<Service>>();
  private closed = false;

  constructor(options: ServicesOptions) {
    this.options = options;
  }

  /** A started service, if any (for diagnostics and tests). */
  async running(name: ServiceName): Promise<Service | undefined> {
    const service = await this.starting.get(name)?.catch(() => undefined);
    return service?.alive() ? service : undefined;
  }

  /**
   * Starts (or reuses) each service the run needs and attaches the run to it. Throws
   * ServiceUnavailableError when one cannot be had; nothing of the run is left then.
   */
  async attach(names: readonly ServiceName[]): Promise<RunServices> {
    const settled = await Promise.allSettled(names.map(async (name) => (await this.service(name)).attach(this.options.view)));
    const attached = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const release = async () => {
      const results = await Promise.allSettled(attached.map((a) => a.release()));
      const problem = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (problem) throw problem.reason;
    };
    if (failed) {
      await release().catch(() => undefined);
      const err = failed.reason as Error;
      const name = names[settled.indexOf(failed)]!;
      throw err instanceof ServiceUnavailableError ? err : new ServiceUnavailableError(name, err.message);
    }
    return {
      env: Object.assign({}, ...attached.map((a: ServiceAttachment) => a.env)) as Record<string, string>,
      mounts: attached.flatMap((a) => a.mounts),
      release,
    };
  }

  /** Stops every service started so far (and any still starting). */
  async close(): Promise<void> {
    this.closed = true;
    const started = await Promise.allSettled([...this.starting.values()]);
    this.starting.clear();
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
  }

  /** One start per service, shared by every run that asks meanwhile; a dead or failed one is started anew. */
  private async service(name: ServiceName): Promise<Service> {
    if (this.closed) throw new ServiceUnavailableError(name, 'the runner is shutting down');
    let pending = this.starting.get(name);
    if (pending) {
      const existing = await pending.catch(() => undefined);
      if (existing?.alive()) return existing;
      if (this.starting.get(name) === pending) {
        this.starting.delete(name);
        await existing?.stop();
      }
      pending = this.starting.get(name);
    }
    if (!pending) {
      pending = starters[name](this.options);
      this.starting.set(name, pending);
      // A start that failed is forgotten, so a later run tries again (the cause may be gone).
      pending.catch(() => {
        if (this.starting.get(name) === pending) this.starting.delete(name);
      });
    }
    const service = await pending;
    if (this.closed) {
      await service.stop();
      throw new ServiceUnavailableError(name, 'the runner is shutting down');
    }
    return service;
  }
}
