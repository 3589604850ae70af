/** Messages between the page's Pyodide engine and its worker (pyodide-worker.ts). */
import type { LockfileInfo } from 'pyodide';
import type { LimitCode } from './pyodide-session.ts';

export type ToWorker =
  /** `interrupt` is shared memory the page writes on Stop; absent where the page is not cross-origin isolated. */
  | { type: 'boot'; assetsUrl: string; lockInfo: LockfileInfo | undefined; interrupt: SharedArrayBuffer | undefined }
  | { type: 'run'; runId: number; files: Record<string, string>; entry: string };

export type FromWorker =
  /** `phases`: when each boot step started and ended, in ms since the epoch (so the page can place them on its own clock). */
  | { type: 'booted'; ms: number; python: string; phases: BootPhase[] }
  | { type: 'boot-failed'; message: string }
  | { type: 'stdout' | 'stderr' | 'trace'; runId: number; data: string }
  | { type: 'exit'; runId: number; code: number; limit: LimitCode | undefined }
  | { type: 'crashed'; runId: number; message: string };

/** One step of the worker's boot, for the benchmark (User Timing measures on the page). */
export interface BootPhase {
  name: string;
  start: number;
  end: number;
}
