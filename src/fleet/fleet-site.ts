/**
 * The site `npm run fleet` serves, built by it when needed: the same three steps as `npm run
 * build` (astro build, the pagefind index, precompression), with PUBLIC_RUNNER_URL set to its own
 * gateway's address and into a folder of its own (dist-fleet/), so that `npm start`'s dist/ — a
 * site without a gateway — is never touched. A stamp written after the last step records which
 * gateway the pages were built for; a site without it (missing, built by hand, interrupted) or
 * built for another address is built again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where `npm run fleet` builds its site unless told otherwise (gitignored). */
export const defaultFleetSiteDir = path.join(projectRoot, 'dist-fleet');

/** Written into the built site last: what it was built for. */
export const stampName = '.asynclab-fleet-site.json';

interface Stamp {
  runnerUrl: string;
  builtAt: string;
}

/** Whether `dir` holds a complete site built for `runnerUrl`, and if not, why (for the progress line). */
export function siteState(dir: string, runnerUrl: string): { ready: true } | { ready: false; why: string } {
  if (!existsSync(path.join(dir, 'index.html'))) return { ready: false, why: `no site in ${dir}` };
  let stamp: Partial<Stamp>;
  try {
    stamp = JSON.parse(readFileSync(path.join(dir, stampName), 'utf8')) as Partial<Stamp>;
  } catch {
    return { ready: false, why: `the site in ${dir} was not built by npm run fleet, or its build did not finish` };
  }
  if (stamp.runnerUrl !== runnerUrl) return { ready: false, why: `the site in ${dir} was built for ${String(stamp.runnerUrl)}, not ${runnerUrl}` };
  return { ready: true };
}

export interface SiteBuild {
  /** Resolves once the site is complete; rejects with one line saying which step failed and why. */
  readonly done: Promise<void>;
  /** Stops the step running now (Ctrl-C during a build). */
  cancel(): void;
}

/** Builds the site into `dir` for the gateway at `runnerUrl`, passing each step's output to `onLine`. */
export function buildFleetSite(dir: string, runnerUrl: string, onLine: (step: string, line: string) => void): SiteBuild {
  let current: ChildProcess | undefined;
  let cancelled = false;
  const steps: Array<[string, string[]]> = [
    ['astro', [path.join(projectRoot, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build', '--outDir', dir]],
    ['pagefind', [path.join(projectRoot, 'node_modules', 'pagefind', 'lib', 'runner', 'bin.cjs'), '--site', dir]],
    ['precompress', [path.join(projectRoot, 'src', 'tools', 'precompress.ts'), dir]],
  ];
  const run = (step: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      if (cancelled) return reject(new Error('the build was stopped'));
      // PATH first holds this Node, for the tools that start `node` by name.
      const env = { ...process.env, PUBLIC_RUNNER_URL: runnerUrl, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
      const child = spawn(process.execPath, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      current = child;
      const last: string[] = [];
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          if (line.trim()) last.push(line);
          if (last.length > 5) last.shift();
          onLine(step, line);
        });
      }
      child.once('error', (err) => reject(new Error(`${step} could not start: ${err.message}`)));
      child.once('exit', (code, signal) => {
        current = undefined;
        if (code === 0) return resolve();
        const why = last.at(-1)?.replace(/\x1b\[[0-9;]*m/g, '').trim() ?? 'no output';
        reject(new Error(cancelled ? 'the build was stopped' : `${step} failed (${signal ?? `exit ${code}`}): ${why}`));
      });
    });
  const done = (async () => {
    // No stamp while the folder is being rewritten: an interrupted build is built again next time.
    await rm(path.join(dir, stampName), { force: true });
    for (const [step, args] of steps) await run(step, args);
    const stamp: Stamp = { runnerUrl, builtAt: new Date().toISOString() };
    await writeFile(path.join(dir, stampName), `${JSON.stringify(stamp)}\n`);
  })();
  return {
    done,
    cancel() {
      cancelled = true;
      current?.kill('SIGTERM');
    },
  };
}
