/**
 * The fresh hosts `npm run test:fresh` starts from: minimal Debian roots with only what a
 * newcomer's machine has (Node.js and npm from Debian, CA certificates, apt with Debian's
 * sources), built with mmdebstrap. Each root is built once and kept as a tarball named by
 * its definition's hash; every test run unpacks a new copy, so each run starts bare.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface FreshHost {
  /** Short name, used in folder names and test titles. */
  name: string;
  release: string;
  suite: string;
  sources: string[];
  /** What a fresh machine of this kind has installed beyond Debian's minimal base. */
  packages: string[];
}

const debian = (suite: string, security: string) => [
  `deb http://deb.debian.org/debian ${suite} main`,
  `deb http://deb.debian.org/debian ${suite}-updates main`,
  `deb http://deb.debian.org/debian-security ${security} main`,
];

export const freshHosts: FreshHost[] = [
  {
    name: 'debian12',
    release: 'Debian 12 (bookworm)',
    suite: 'bookworm',
    sources: debian('bookworm', 'bookworm-security'),
    packages: ['nodejs', 'npm', 'ca-certificates'],
  },
  {
    name: 'debian13',
    release: 'Debian 13 (trixie)',
    suite: 'trixie',
    sources: debian('trixie', 'trixie-security'),
    packages: ['nodejs', 'npm', 'ca-certificates'],
  },
];

/** Where built hosts and the shared download caches live: beside the sandbox runtime, outside the repository. */
export function freshCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ASYNCLAB_FRESH_CACHE) return path.resolve(env.ASYNCLAB_FRESH_CACHE);
  return process.getuid?.() === 0 ? '/var/cache/asynclab/fresh' : path.join(env.XDG_CACHE_HOME || path.join(env.HOME ?? '/tmp', '.cache'), 'asynclab', 'fresh');
}

export function hostTarball(host: FreshHost, cache = freshCache()): string {
  const hash = createHash('sha256').update(JSON.stringify(host)).digest('hex').slice(0, 12);
  return path.join(cache, `${host.name}-${hash}.tar`);
}

/** Runs a command, passing its output through with a prefix; rejects with its last lines. */
export function runLogged(prefix: string, file: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, detached: true });
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 30) tail.shift();
        process.stdout.write(`${prefix} ${line}\n`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(file)} ended with ${signal ?? `exit ${code}`}:\n${tail.slice(-12).join('\n')}`));
    });
  });
}

/** The host's tarball, built with mmdebstrap when it is not cached yet. */
export async function ensureHostTarball(host: FreshHost): Promise<string> {
  const tarball = hostTarball(host);
  if (existsSync(tarball)) return tarball;
  await mkdir(path.dirname(tarball), { recursive: true, mode: 0o755 });
  const partial = tarball.replace(/\.tar$/, `.partial-${process.pid}.tar`); // mmdebstrap picks the format from the ending
  try {
    await runLogged(`[${host.name} mmdebstrap]`, 'mmdebstrap', ['--variant=minbase', `--include=${host.packages.join(',')}`, host.suite, partial, ...host.sources], {
      timeoutMs: 15 * 60_000,
    });
    await rename(partial, tarball);
  } finally {
    await rm(partial, { force: true });
  }
  return tarball;
}
