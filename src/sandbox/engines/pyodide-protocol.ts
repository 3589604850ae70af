/** Messages between the page's Pyodide engine and its worker (pyodide-worker.ts). */
import type { LimitCode } from './pyodide-session.ts';

export type ToWorker =
  /** `interrupt` is shared memory the page writes on Stop; absent where the page is not cross-origin isolated. */
  | { type: 'boot'; assetsUrl: string; interrupt: SharedArrayBuffer | undefined }
  | { type: 'run'; runId: number; files: Record<string, string>; entry: string };

export type FromWorker =
  | { type: 'booted'; ms: number; python: string }
  | { type: 'boot-failed'; message: string }
  | { type: 'stdout' | 'stderr' | 'trace'; runId: number; data: string }
  | { type: 'exit'; runId: number; code: number; limit: LimitCode | undefined }
  | { type: 'crashed'; runId: number; message: string };
