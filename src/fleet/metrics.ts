/**
 * The fleet's Prometheus metrics (GET /metrics on a gateway; a node can expose the same registry).
 *
 * Why a Registry of our own rather than prom-client's global one: the gateway and the nodes run in
 * one process in the tests and in `npm run fleet`, and a library that also registers on the global
 * registry must not leak into (or collide with) ours. Labels are closed sets (sandbox kind, reason
 * code, refusal kind, node id) so a stranger cannot grow the series count: anything unexpected is
 * counted as "other". Gauges that describe the fleet rather than this process (queue length, nodes
 * alive, runs per node) are read from Redis when scraped, so every gateway reports the same truth.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { reasonCodes, type ReasonCode } from '../protocol/reasons.ts';
import type { NodeInfo } from './contract.ts';

/** What a sandbox is, for labels: its manifest kind, or a server run with a live preview. */
export type SandboxKindLabel = 'script' | 'server' | 'preview' | 'other';

/** Why a request was refused before any work, for the refusals counter. */
export const refusalKinds = ['origin', 'runs-per-minute', 'concurrent-runs', 'connections', 'busy', 'message-size', 'bad-request', 'fleet-unavailable'] as const;
export type RefusalKind = (typeof refusalKinds)[number];

/** Where the scrape-time gauges come from: the gateway's BullMQ queue and the nodes' heartbeats. */
export interface FleetSources {
  queueLength(): Promise<number>;
  nodes(): Promise<NodeInfo[]>;
}

/** The sandbox-kind label of a run from its (untrusted) manifest and preview flag. */
export function sandboxKindLabel(manifest: unknown, preview: boolean): SandboxKindLabel {
  const kind = typeof manifest === 'object' && manifest !== null ? (manifest as { kind?: unknown }).kind : undefined;
  if (kind === 'server') return preview ? 'preview' : 'server';
  if (kind === 'script') return 'script';
  return 'other';
}

/** A run's exit reason as a label: its code, or "normal" for a run that ended by itself. */
function reasonLabel(code: ReasonCode | null): string {
  if (code === null) return 'normal';
  return (reasonCodes as readonly string[]).includes(code) ? code : 'other';
}

/** Node ids become labels: cut and restricted to a safe alphabet, since a node's id comes from its own configuration. */
function nodeLabel(id: string): string {
  return id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64) || 'unnamed';
}

/** Buckets in seconds from 10 ms to 5 min: queue waits are mostly short, preview runs last minutes. */
const secondsBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

export interface FleetMetrics {
  readonly registry: Registry;
  runStarted(kind: SandboxKindLabel): void;
  runFinished(kind: SandboxKindLabel, reason: ReasonCode | null, durationMs: number): void;
  queueWait(kind: SandboxKindLabel, waitMs: number): void;
  refused(kind: RefusalKind): void;
  connectionOpened(): void;
  connectionClosed(): void;
  /** The body and Content-Type for GET /metrics. */
  exposition(): Promise<{ contentType: string; body: string }>;
}

export function createFleetMetrics(sources: FleetSources, options: { role: 'gateway' | 'node'; instance: string }): FleetMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ role: options.role, instance: nodeLabel(options.instance) });
  const registers = [registry];

  const started = new Counter({ name: 'asynclab_runs_started_total', help: 'Runs started, by sandbox kind.', labelNames: ['kind'], registers });
  const finished = new Counter({ name: 'asynclab_runs_finished_total', help: 'Runs finished, by exit reason ("normal" when the program ended by itself) and sandbox kind.', labelNames: ['reason', 'kind'], registers });
  const wait = new Histogram({ name: 'asynclab_queue_wait_seconds', help: 'Time from the gateway queueing a run to a node starting it.', labelNames: ['kind'], buckets: secondsBuckets, registers });
  const duration = new Histogram({ name: 'asynclab_run_duration_seconds', help: 'Time from a run starting on a node to its exit.', labelNames: ['kind'], buckets: secondsBuckets, registers });
  const refusals = new Counter({ name: 'asynclab_refusals_total', help: 'Requests refused before any work, by kind.', labelNames: ['kind'], registers });
  const connections = new Gauge({ name: 'asynclab_gateway_open_connections', help: 'WebSocket connections open on this gateway.', registers });
  let open = 0;

  // Scrape-time gauges: a failed read (Redis away) never fails the scrape, and never shows a stale or
  // made-up number: a single-value gauge reads NaN (Prometheus's "unknown"), a per-node one is left empty.
  new Gauge({
    name: 'asynclab_queue_length',
    help: 'Runs waiting in the fleet queue for a node (BullMQ waiting + prioritized).',
    registers,
    async collect() {
      try {
        this.set(await sources.queueLength());
      } catch {
        this.set(Number.NaN);
      }
    },
  });
  const nodesCache: { at: number; value: Promise<NodeInfo[]> | null } = { at: 0, value: null };
  // One read of the heartbeats per scrape, shared by the two gauges below.
  const nodes = () => {
    if (!nodesCache.value || Date.now() - nodesCache.at > 500) {
      nodesCache.at = Date.now();
      nodesCache.value = sources.nodes();
    }
    return nodesCache.value;
  };
  new Gauge({
    name: 'asynclab_nodes_alive',
    help: 'Runner nodes with a live heartbeat.',
    registers,
    async collect() {
      try {
        this.set((await nodes()).length);
      } catch {
        this.set(Number.NaN);
      }
    },
  });
  new Gauge({
    name: 'asynclab_node_active_runs',
    help: 'Runs each live node is running, from its heartbeat.',
    labelNames: ['node'],
    registers,
    async collect() {
      this.reset();
      try {
        for (const node of await nodes()) this.set({ node: nodeLabel(node.id) }, node.running);
      } catch {
        // Left empty: no stale per-node numbers for a fleet we cannot see.
      }
    },
  });

  return {
    registry,
    runStarted: (kind) => started.inc({ kind }),
    runFinished: (kind, reason, durationMs) => {
      finished.inc({ reason: reasonLabel(reason), kind });
      duration.observe({ kind }, Math.max(0, durationMs) / 1000);
    },
    queueWait: (kind, waitMs) => wait.observe({ kind }, Math.max(0, waitMs) / 1000),
    refused: (kind) => refusals.inc({ kind: (refusalKinds as readonly string[]).includes(kind) ? kind : 'other' }),
    // Counted here, not by inc/dec, so a close reported twice cannot take the gauge below zero.
    connectionOpened: () => connections.set((open += 1)),
    connectionClosed: () => connections.set((open = Math.max(0, open - 1))),
    exposition: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
