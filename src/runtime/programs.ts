/**
 * Finding a host program by name: PATH first, then the usual system folders (npm scripts
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
