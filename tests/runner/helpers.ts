import { readdirSync, readFileSync } from 'node:fs';
import type { RunEvent, ServerMessage } from '../../src/protocol/messages.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { spansOf } from '../../src/timeline/summary.ts';
import type { Runner } from '../../src/runner/runner.ts';
import type { SandboxFiles, SandboxManifestInput } from '../../src/protocol/manifest.ts';

export interface RunResult {
  events: RunEvent[];
  stdout: string;
  stderr: string;
  trace: string[];
  exit: Extract<RunEvent, { type: 'exit' }>;
}

export function python(source: string, extra: Partial<SandboxManifestInput> = {}): { manifest: SandboxManifestInput; files: SandboxFiles } {
  return {
    manifest: { id: 'probe', title: { en: 'probe', zh: '探针' }, language: 'python', kind: 'script', entry: 'main.py', ...extra },
    files: { 'main.py': source },
  };
}

export function node(source: string, extra: Partial<SandboxManifestInput> = {}): { manifest: SandboxManifestInput; files: SandboxFiles } {
  return {
    manifest: { id: 'probe', title: { en: 'probe', zh: '探针' }, language: 'node', kind: 'script', entry: 'main.mjs', ...extra },
    files: { 'main.mjs': source },
  };
}

/** Runs a request to its end and gathers what the runner said. `onEvent` sees events as they come. */
export function runToEnd(
  runner: Runner,
  request: { manifest: unknown; files: SandboxFiles },
  onEvent?: (event: RunEvent, stop: () => void) => void,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const events: RunEvent[] = [];
    let stop = () => undefined as void;
    const handle = runner.run(request, (event) => {
      events.push(event);
      onEvent?.(event, () => stop());
      if (event.type === 'exit') {
        resolve({
          events,
          stdout: events.flatMap((e) => (e.type === 'stdout' ? [e.data] : [])).join(''),
          stderr: events.flatMap((e) => (e.type === 'stderr' ? [e.data] : [])).join(''),
          trace: events.flatMap((e) => (e.type === 'trace' ? e.data.split('\n') : [])),
          exit: event,
        });
      }
    });
    stop = () => handle.stop();
  });
}

/** Pids of live processes whose command line contains `marker` (to prove nothing survived). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes(marker)) found.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

export const hello = python('print("hello again")\n');

/** Client-side durations (ms, ascending) of the load driver's requests to `path`, from the trace model. */
export function requestDurations(result: RunResult, path: string): number[] {
  return spansOf(buildModel(result.trace), 'request')
    .filter((s) => s.args.path === path)
    .map((s) => (s.end - s.start) / 1000)
    .sort((a, b) => a - b);
}

/**
 * Collects a page connection's messages and waits for the first one that matches (taking
 * it out), so a test can wait for events in any order the runner sends them.
 */
export function messageInbox(ws: { on(event: 'message', listener: (data: { toString(): string }) => void): unknown }, defaultMs = 30_000) {
  const inbox: ServerMessage[] = [];
  // Woken by each message, so a wait ends as soon as its message is in (the timer is a backstop).
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    inbox.push(JSON.parse(data.toString()) as ServerMessage);
    waiters.splice(0).forEach((wake) => wake());
  });
  const next = async (pred: (m: ServerMessage) => boolean, ms = defaultMs): Promise<ServerMessage> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const index = inbox.findIndex(pred);
      if (index >= 0) return inbox.splice(index, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no matching message; inbox: ${JSON.stringify(inbox).slice(0, 800)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  return { inbox, next };
}
