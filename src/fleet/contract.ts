/**
 * What gateways and runner nodes agree on through Redis (README "Hosted fleet"). Nothing else
 * passes between them: a gateway never calls a node, a node never calls a gateway.
 *
 * One run, from the reader's click:
 *   1. The gateway takes `run` from the page, checks the client's limits, and adds a BullMQ job to
 *      the `runs` queue (job id = the fleet run id; attempts 1, so BullMQ never runs it twice).
 *   2. A node's Worker takes it (concurrency = the node's pool size), appends `{type:"assigned"}`
 *      to the run's event stream, and runs it with the ordinary `Runner`. Every `RunEvent` is
 *      appended, in order, to that stream; the last one is always `exit`.
 *   3. The gateway that added the job reads the stream (XREAD) and forwards each event to the one
 *      connection that asked for the run.
 *
 * Why a Redis Stream per run rather than BullMQ's own events: BullMQ's QueueEvents is one stream for
 * the whole queue, trimmed to a maximum length, so under load a gateway can miss events, and every
 * gateway would read every run's output. A stream per run is ordered, complete (it is read from its
 * first entry whatever the gateway's timing), and read only by the gateway that owns the run.
 *
 * Stopping: the gateway sets `stopped(runId)` and publishes the run id on `stopChannel`; a node that
 * holds the run stops it, a node about to start it sees the flag first and ends it without running.
 *
 * Liveness: each node refreshes `node(nodeId)` (TTL `nodeTtlMs`) every `nodeHeartbeatMs`. A gateway
 * whose run was assigned to a node whose key has expired ends the run with `node-lost`; the job is
 * never retried (the Worker runs with `maxStalledCount: 0`).
 */
import type { SandboxFiles } from '../protocol/manifest.ts';
import type { LimitsSummary, RunEvent } from '../protocol/messages.ts';

/** BullMQ prefix and the prefix of every other key, so one Redis can be shared with nothing else. */
export const fleetPrefix = 'asynclab';

/** The BullMQ queue every run goes through. */
export const runQueueName = 'runs';

/** A fleet run id: the gateway's id, its connection, the page's run id; unique across the fleet. */
export const fleetRunIdPattern = /^[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,64}$/;

/** The data of one BullMQ job. Everything in it came from a stranger: the node checks it again. */
export interface RunJobData {
  runId: string;
  manifest: unknown;
  files: SandboxFiles;
  preview: boolean;
  /** A salted hash of the client's address (for fairness and logs; never the address itself). */
  client: string;
  /** The gateway that owns the run, for logs. */
  gateway: string;
  /** Epoch ms when the gateway queued it (queue wait = started − this). */
  submittedAt: number;
}

/** What a node appends to a run's stream: the run's own events, plus which node took it. */
export type FleetEvent =
  | RunEvent
  | { type: 'assigned'; node: string; isolation: 'bwrap' | 'none' };

/** The stream field each entry's JSON is stored under. */
export const eventField = 'e';

export const keys = {
  /** Redis Stream of FleetEvent, one per run. */
  events: (runId: string) => `${fleetPrefix}:run:${runId}:events`,
  /** Set (with a TTL) when the run's page asked to stop it; the value is the reason code (`stopped`, or `disconnected` when the page left). */
  stopped: (runId: string) => `${fleetPrefix}:run:${runId}:stopped`,
  /** A node's heartbeat: JSON NodeInfo, expires after nodeTtlMs without a refresh. */
  node: (nodeId: string) => `${fleetPrefix}:node:${nodeId}`,
  /** Pattern matching every node's heartbeat key. */
  nodePattern: `${fleetPrefix}:node:*`,
  /** Where a live preview is: JSON PreviewRoute, expires with the run's preview limit. */
  preview: (capability: string) => `${fleetPrefix}:preview:${capability}`,
} as const;

/** Pub/sub channel: each message is a fleet run id to stop. */
export const stopChannel = `${fleetPrefix}:stop`;

export const nodeHeartbeatMs = 1_000;
export const nodeTtlMs = 5_000;
/** A finished run's stream is kept this long (a gateway reading late still sees its exit). */
export const eventStreamTtlSeconds = 300;

export interface NodeInfo {
  id: string;
  /** Runs the node takes at once (its pool size). */
  capacity: number;
  running: number;
  isolation: 'bwrap' | 'none';
  /** Where gateways reach the node's preview endpoint, e.g. http://10.0.0.5:7070 (private network only). */
  previewUrl: string | null;
  /**
   * Added with the node itself (not in the first draft of this contract): the limits its runner
   * enforces, which a gateway puts in its `hello` (a gateway has no runner of its own to ask), and
   * whether it is draining (SIGTERM: it takes no new job, so a gateway does not count it as ready).
   */
  limits?: LimitsSummary;
  draining?: boolean;
}

/** A live preview as gateways find it: which node serves it, and the path there. */
export interface PreviewRoute {
  node: string;
  runId: string;
  /** The node's preview endpoint (NodeInfo.previewUrl) at the time the run became ready. */
  url: string;
  /**
   * Set once the run has ended (added with the node: the route is kept a while marked ended rather
   * than deleted, so a late request hears "this run has ended" (410), as embedded, not "unknown").
   */
  ended?: boolean;
}

/** How long an ended preview's route is kept. */
export const endedPreviewTtlMs = 5 * 60_000;
