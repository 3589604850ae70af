/**
 * Host programs and processes. Finding a host program by name: PATH first, then the usual system folders (npm scripts
 * and services may run with a short PATH). Only the host's programs are looked up here;
 * what runs inside a sandbox comes from the runtime root.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const systemDirs = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin'];

export function findProgram(name: string, dirs: readonly string[] = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...systemDirs]): string | undefined {
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Whether a process exists (EPERM: it does, but is another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
