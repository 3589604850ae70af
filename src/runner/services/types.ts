/**
 * What a backing service (PostgreSQL, Redis) gives one run, and how it says it cannot.
 * The runner starts a service once, shares it across runs, and gives each run its own
 * slice of it (a database, a key prefix) with its own credentials.
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

/** One run's slice of a service. `release` removes it and everything the run put there. */
export interface ServiceAttachment {
  /** Environment variables the sandbox gets (connection settings). */
  env: Record<string, string>;
  mounts: ServiceMount[];
  release(): Promise<void>;
}

export interface Service {
  readonly name: ServiceName;
  /** The server's pid on the host (its workers are its children). */
  readonly pid: number;
  /** How long the cold start took (install-free: create data, start, wait until ready). */
  readonly startMs: number;
  /** False once the server has exited (crashed, or killed from outside): the runner starts a new one. */
  alive(): boolean;
  attach(view: PathView): Promise<ServiceAttachment>;
  /** Stops the server and removes its data. Idempotent. */
  stop(): Promise<void>;
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
