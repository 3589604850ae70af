/**
 * What a backing service (PostgreSQL, Redis) gives one run, and how it says it cannot.
 * Every run that needs a service gets a server of its own, started inside the run's
 * cgroup (so its memory, processes and CPU are the run's) and gone when the run ends:
 * nothing of one run's service is shared with, visible to, or taken from another.
 */

export const serviceNames = ['postgres', 'redis'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** The name a reader knows the service by, for reasons and logs. */
export const serviceLabels: Record<ServiceName, string> = { postgres: 'PostgreSQL', redis: 'Redis' };

/**
 * Where the run will see the service's socket: inside bubblewrap at a fixed, conventional
 * path (bind-mounted), or — only when the runner runs unisolated — at the host path itself.
 */
export type PathView = 'sandbox' | 'host';

/** A host path bind-mounted read-only into the sandbox at `inside`. */
export interface ServiceMount {
  host: string;
  inside: string;
}

/**
 * One run's own server of a service: started for the run, inside the run's cgroup, and
 * stopped with it. `release` stops the server (if the run's cgroup has not already killed
 * it) and removes its folder; it is idempotent.
 */
export interface RunService {
  readonly name: ServiceName;
  /** The server's outermost process on the host (setpriv, then bubblewrap); the server is its descendant. */
  readonly pid: number;
  /** How long the start took, from nothing to accepting sessions. */
  readonly startMs: number;
  /** Environment variables the sandbox gets (connection settings). */
  readonly env: Record<string, string>;
  readonly mounts: ServiceMount[];
  /** False once the server has exited (stopped, crashed, or killed with the run's cgroup). */
  alive(): boolean;
  /**
   * Whether a process of the server was killed while it served (before release). In the
   * run's cgroup nothing but the OOM killer does that: the run's exit then names the service.
   */
  lostAProcess(): boolean;
  release(): Promise<void>;
}

/** Where a run's server processes go: the `cgroup.procs` files of the run's cgroup (none: no cgroups). */
export interface ServicePlacement {
  view: PathView;
  cgroupProcs?: readonly string[] | undefined;
}

/** The service is not installed, or did not start: the run is refused with `service-unavailable`. */
export class ServiceUnavailableError extends Error {
  readonly service: ServiceName;
  readonly detail: string;

  constructor(service: ServiceName, detail: string) {
    super(`${serviceLabels[service]} is not available: ${detail}`);
    this.service = service;
    this.detail = detail;
  }
}
