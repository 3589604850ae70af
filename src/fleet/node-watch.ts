/**
 * A gateway's view of which nodes are alive: every node's heartbeat key (contract.ts), read once a
 * second for the whole gateway. It answers /readyz, the isolation the hello reports, and — for the
 * gateway's assigned runs — whether their node is still there (node-lost when its key expired).
 */
import type { Redis } from 'ioredis';
import type { LimitsSummary } from '../protocol/messages.ts';
import { keys, type NodeInfo } from './contract.ts';

/** What a node writes in its heartbeat: NodeInfo, and (node.ts) its limits and whether it drains. */
export type NodeBeat = NodeInfo & { limits?: LimitsSummary; draining?: boolean };

export type NodeView = { ok: true; nodes: Map<string, NodeBeat>; at: number } | { ok: false; why: string; at: number };

export async function readNodes(redis: Redis): Promise<NodeView> {
  const at = Date.now();
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', keys.nodePattern, 'COUNT', 200);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    const nodes = new Map<string, NodeBeat>();
    if (found.length) {
      const values = await redis.mget(...found);
      for (const value of values) {
        if (!value) continue; // expired between the scan and the read
        try {
          const beat = JSON.parse(value) as NodeBeat;
          if (typeof beat.id === 'string') nodes.set(beat.id, beat);
        } catch {
          // a key that is not a heartbeat: not a node
        }
      }
    }
    return { ok: true, nodes, at };
  } catch (err) {
    return { ok: false, why: `Redis: ${(err as Error).message}`, at };
  }
}
