/**
 * The sandbox runtime's specification (`sandboxes/_runtime/runtime.json`) and where its
 * built root lives. One file names the Debian suite, the packages and the versions the
 * root must report; its hash names the cache folder, so a changed list means a new root
 * and an unchanged one is never rebuilt.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'astro/zod';

export const projectRoot = path.resolve(import.meta.dirname, '..', '..');
export const specFile = path.join(projectRoot, 'sandboxes', '_runtime', 'runtime.json');

/**
 * Bumped when the way a root is built or checked changes (not its contents): a new
 * revision gives a new hash, so roots built the old way are not reused.
 */
const builderRevision = 1;

const debianPackage = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name');
const aptSource = z.string().regex(/^deb https?:\/\/[^\s]+ [a-z0-9-]+( [a-z0-9-]+)+$/, '"deb URL SUITE COMPONENT…"');

export const runtimeSpec = z
  .object({
    $comment: z.string().optional(),
    suite: z.string().regex(/^[a-z]+$/),
    release: z.string().min(1),
    mirrors: z.array(aptSource).min(1),
    packages: z.array(debianPackage).min(1),
    /** Upstream version prefixes the built root must report: Python modules by distribution name, plus python, postgresql, redis-server. */
    versions: z.record(z.string(), z.string().regex(/^\d+(\.\d+)*$/)),
  })
  .strict();
export type RuntimeSpec = z.infer<typeof runtimeSpec>;

export class RuntimeSpecError extends Error {}

export function loadSpec(file = specFile): { spec: RuntimeSpec; hash: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RuntimeSpecError(`${file}: cannot read it (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RuntimeSpecError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = runtimeSpec.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RuntimeSpecError(`${file}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  for (const key of ['python', 'fastapi', 'postgresql', 'redis-server']) {
    if (!parsed.data.versions[key]) throw new RuntimeSpecError(`${file}: field versions.${key}: missing (the lessons name it)`);
  }
  const hash = createHash('sha256').update(`asynclab-runtime ${builderRevision}\n`).update(text).digest('hex').slice(0, 16);
  return { spec: parsed.data, hash };
}

/**
 * Where roots are cached: ASYNCLAB_RUNTIME_CACHE, else a system folder for root (the
 * services' unprivileged accounts must be able to traverse it, which /root forbids),
 * else the user's cache folder. Never inside the repository: a clone stays clean and a
 * fresh clone reuses the machine's root.
 */
export function cacheBase(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.ASYNCLAB_RUNTIME_CACHE;
  const base = configured
    ? path.resolve(configured)
    : process.getuid?.() === 0
      ? '/var/cache/asynclab/runtime'
      : path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'asynclab', 'runtime');
  const relative = path.relative(projectRoot, base);
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
    throw new RuntimeSpecError(`ASYNCLAB_RUNTIME_CACHE=${base} is inside the repository: choose a folder outside ${projectRoot}`);
  }
  return base;
}

export interface RuntimeLocation {
  hash: string;
  /** `<base>/<hash>`: the root and its report. */
  dir: string;
  /** The filesystem bound as the sandboxes' system. */
  root: string;
  /** Written last, after the check passed: its presence means "built and checked". */
  report: string;
}

export function locate(hash: string, base = cacheBase()): RuntimeLocation {
  const dir = path.join(base, hash);
  return { hash, dir, root: path.join(dir, 'root'), report: path.join(dir, 'report.json') };
}

/** What the check found in a built root: the versions it reports, its size, how long it took. */
export const runtimeReport = z.object({
  hash: z.string(),
  suite: z.string(),
  builtAt: z.string(),
  buildSeconds: z.number(),
  bytes: z.number(),
  versions: z.record(z.string(), z.string()),
  /** Python modules of the optional service drivers the root has (asyncpg, redis). */
  pythonModules: z.array(z.string()),
});
export type RuntimeReport = z.infer<typeof runtimeReport>;

export function readReport(location: RuntimeLocation): RuntimeReport | undefined {
  try {
    const report = runtimeReport.parse(JSON.parse(readFileSync(location.report, 'utf8')));
    return report.hash === location.hash ? report : undefined;
  } catch {
    return undefined;
  }
}
