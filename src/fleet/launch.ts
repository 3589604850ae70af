/**
 * Starting the fleet's processes on one machine (`npm run fleet`, the fleet tests): a gateway or a
 * node as a child process of its own, exactly as an operator would start it, with its output
 * passed on line by line and a promise for the moment it is ready (its first "ready" line).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export type FleetRole = 'gateway' | 'node';

const scripts: Record<FleetRole, string> = {
  gateway: fileURLToPath(new URL('./gateway-main.ts', import.meta.url)),
  node: fileURLToPath(new URL('./node-main.ts', import.meta.url)),
};

/** The line each prints once it serves: the gateway's address, or the node taking runs. */
const readyLine: Record<FleetRole, RegExp> = {
  gateway: /^gateway \S+: listening on (\S+):(\d+) /,
  node: /^node (\S+): taking runs/,
};

export interface FleetChild {
  readonly role: FleetRole;
  readonly label: string;
  readonly child: ChildProcess;
  /** Resolves with the ready line's match (gateway: [, host, port]; node: [, id]); rejects if it exits first. */
  readonly ready: Promise<RegExpMatchArray>;
  /** Resolves when it has exited, with its code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it printed (for saying why it failed). */
  readonly lastLines: string[];
  /** Sends the signal (if still running) and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startFleetChild(role: FleetRole, env: NodeJS.ProcessEnv, opts: { label?: string; onLine?: (label: string, line: string) => void } = {}): FleetChild {
  const label = opts.label ?? role;
  const child = spawn(process.execPath, [scripts[role]], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lastLines: string[] = [];
  let onReady: ((m: RegExpMatchArray) => void) | undefined;
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code, signal) => reject(new Error(`${label} exited before it was ready (${signal ?? `code ${code}`}): ${lastLines.slice(-3).join(' | ')}`)));
  });
  ready.catch(() => undefined);
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > 20) lastLines.shift();
      const m = readyLine[role].exec(line);
      if (m) onReady?.(m);
      opts.onLine?.(label, line);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    role,
    label,
    child,
    ready,
    exited,
    lastLines,
    async stop(signal = 'SIGTERM', graceMs = 60_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
}
