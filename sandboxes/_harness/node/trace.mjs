// Trace side channel of the AsyncLab harness for Node sandboxes (DESIGN §6): the same
// NDJSON events as the Python harness, on fd 3, or on stdout behind a prefix without it.
import { fstatSync, writeSync } from 'node:fs';

const fd = Number(process.env.ASYNCLAB_TRACE_FD ?? 3);
const t0 = BigInt(process.env.ASYNCLAB_T0_NS || process.hrtime.bigint());
export const PREFIX = '\x1easynclab-trace ';

let toFd = true;
try {
  fstatSync(fd);
} catch {
  toFd = false;
}

/** Microseconds since the run started (process.hrtime is CLOCK_MONOTONIC, shared by the run's processes). */
export function nowUs() {
  return Number((process.hrtime.bigint() - t0) / 1000n);
}

export function emit(event) {
  const line = JSON.stringify(event);
  try {
    if (toFd) writeSync(fd, `${line}\n`);
    else process.stdout.write(`${PREFIX}${line}\n`);
  } catch {
    // the reader is gone; the run is ending
  }
}

/** stdio for a child process that should write the same trace. */
export function childStdio() {
  return toFd ? ['ignore', 'inherit', 'inherit', fd] : ['ignore', 'inherit', 'inherit'];
}
