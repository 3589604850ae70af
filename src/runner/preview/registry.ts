/**
 * Live previews by capability. A capability is a fresh random 256-bit value per preview run,
 * sent only to the connection that started the run (in its `ready` message); it names the
 * run's socket and nothing else. It is valid while the run lives: when the run ends, its
 * entry goes (open proxied connections are cut) and the capability is remembered as ended,
 * so a late request hears "this run has ended" rather than "unknown".
 */
import { createHash, randomBytes } from 'node:crypto';

export interface PreviewTarget {
  /** The run's activation socket (activation.ts). */
  readonly socketPath: string;
  /** The app's port inside the sandbox, for the Host header it would see from a local client. */
  readonly appPort: number;
  /** Sockets of proxied requests and tunnels now open, cut when the run ends. */
  readonly open: Set<{ destroy(): void }>;
}

export type Lookup = { state: 'live'; target: PreviewTarget } | { state: 'ended' } | { state: 'unknown' };

export interface PreviewHandle {
  readonly capability: string;
  /** `/__runner/preview/<capability>/` */
  readonly path: string;
  close(): void;
}

export const previewPrefix = '/__runner/preview/';
export const capabilityPattern = /^[A-Za-z0-9_-]{43}$/;

const endedMemory = 1024;

/** Kept by hash: a lookup's timing says nothing about how much of a guess was right. */
const key = (capability: string) => createHash('sha256').update(capability).digest('hex');

export class PreviewRegistry {
  private readonly live = new Map<string, PreviewTarget>();
  private readonly ended = new Set<string>();

  open(socketPath: string, appPort: number): PreviewHandle {
    const capability = randomBytes(32).toString('base64url');
    const k = key(capability);
    const target: PreviewTarget = { socketPath, appPort, open: new Set() };
    this.live.set(k, target);
    return {
      capability,
      path: `${previewPrefix}${capability}/`,
      close: () => {
        if (!this.live.delete(k)) return;
        for (const socket of target.open) socket.destroy();
        target.open.clear();
        this.ended.add(k);
        if (this.ended.size > endedMemory) this.ended.delete(this.ended.values().next().value!);
      },
    };
  }

  lookup(capability: string): Lookup {
    if (!capabilityPattern.test(capability)) return { state: 'unknown' };
    const k = key(capability);
    const target = this.live.get(k);
    if (target) return { state: 'live', target };
    return this.ended.has(k) ? { state: 'ended' } : { state: 'unknown' };
  }

  get size(): number {
    return this.live.size;
  }
}
