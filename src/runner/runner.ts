/**
 * The runner's core, independent of any transport: validate a run request, queue it
 * in the pool, execute it as a Job, stream its events to a sink. The WebSocket mount
 * (ws.ts) and the terminal CLI (cli.ts) are both thin layers over `Runner.run`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { entryFile, isSafeRelativePath, sandboxManifest, type SandboxFiles, type SandboxManifest } from '../protocol/manifest.ts';
import { detectEnvironment, findHostPython, hostSystem, type RunnerEnvironment } from './environment.ts';
import { Job } from './job.ts';
import { limitsFromEnv, type Limits } from './limits.ts';
import { Pool } from './pool.ts';
import type { LimitsSummary, RunEvent } from '../protocol/messages.ts';
import { reason, type Reason } from '../protocol/reasons.ts';
import { sandboxEtcFiles } from './sandbox-command.ts';
import { etcMountPoints } from '../runtime/system-root.ts';
import { Services, type ServicesOptions } from './services/index.ts';
import { PreviewRegistry } from './preview/registry.ts';
import { makePrivateCopies } from './private-copies.ts';
import { describeSweep, sweepAbandonedRunners, workRootPrefix, writeOwnerMarker } from './sweep.ts';

export interface RunnerOptions {
  limits?: Limits;
  /** Run without bubblewrap (and without cgroups if unavailable). Only by explicit request. */
  unsafe?: boolean;
  env?: RunnerEnvironment;
  /** Where the services' programs are (tests point them elsewhere to see a missing one refused). */
  services?: Omit<ServicesOptions, 'view'>;
  /** Where the startup sweep says what it removed (sweep.ts). Default: console.log. */
  log?: (line: string) => void;
}

export interface RunHandle {
  stop(why?: Reason): void;
  done: Promise<void>;
}

export class IsolationUnavailableError extends Error {}

const defaultHarnessDir = fileURLToPath(new URL('../../sandboxes/_harness', import.meta.url));

export class Runner {
  readonly env: RunnerEnvironment;
  readonly limits: Limits;
  readonly unsafe: boolean;
  /** The runner's private directory: `etc/`, its `owner` (sweep.ts), one `run-*` directory per live run. */
  readonly workRoot: string;
  private readonly etcDir: string;
  /** The harness sandboxes see: a copy in the work root (private-copies.ts). */
  private readonly harnessDir: string;
  private readonly jobs = new Set<Job>();
  private readonly pool: Pool;
  /** PostgreSQL and Redis, each started by the first run that needs it and stopped by close(). */
  readonly services: Services;
  /** Live previews of running server sandboxes, by capability (the preview proxy looks them up). */
  readonly previews = new PreviewRegistry();
  private closed = false;

  private constructor(env: RunnerEnvironment, limits: Limits, unsafe: boolean, workRoot: string, etcDir: string, harnessDir: string, services: Services) {
    this.env = env;
    this.harnessDir = harnessDir;
    this.limits = limits;
    this.unsafe = unsafe;
    this.workRoot = workRoot;
    this.etcDir = etcDir;
    this.pool = new Pool(limits.concurrency, limits.queue, limits.queuePerConnection);
    this.services = services;
  }

  /** Finds what the machine offers and refuses to start without isolation unless `unsafe`. */
  static async start(options: RunnerOptions = {}): Promise<Runner> {
    const unsafe = options.unsafe ?? false;
    let env = options.env ?? (await detectEnvironment());
    if (unsafe && env.system.pinned) {
      // Unisolated runs execute on the host itself, where the runtime root's binaries cannot run.
      env = { ...env, python: await findHostPython(), system: hostSystem('the host (unsafe mode, no isolation): the lessons\' claims may not hold') };
    }
    if (env.isolationProblems.length && !unsafe) {
      throw new IsolationUnavailableError(
        `The runner will not start without isolation:\n  - ${env.isolationProblems.join('\n  - ')}\n` +
          'Fix the above, or start it with RUNNER_UNSAFE=1 to run sandboxes unisolated on this machine (never on a shared one).',
      );
    }
    const limits = options.limits ?? limitsFromEnv();
    if (limits.cpuFraction !== undefined && !env.cgroups?.cpuLimit) {
      // A throttled test run that silently ran at full speed would prove nothing.
      throw new Error(`A CPU limit (cpuFraction ${limits.cpuFraction}) needs a writable cpu cgroup controller, and this machine offers none to the runner.`);
    }
    // What runners that died without closing left (directories, cgroups, service data), before this one adds its own.
    const swept = describeSweep(await sweepAbandonedRunners());
    if (swept) (options.log ?? console.log)(swept);
    const workRoot = await mkdtemp(path.join(tmpdir(), workRootPrefix));
    await writeOwnerMarker(workRoot);
    const etcDir = path.join(workRoot, 'etc');
    await mkdir(etcDir, { mode: 0o755 });
    for (const [name, content] of Object.entries(sandboxEtcFiles)) await writeFile(path.join(etcDir, name), content, { mode: 0o644 });
    for (const dir of etcMountPoints) await mkdir(path.join(etcDir, dir), { mode: 0o755 });
    // Sandboxes bind these from the work root, so their mounts never name the checkout.
    const copies = await makePrivateCopies(workRoot, { harness: defaultHarnessDir, node: env.node });
    env = { ...env, node: copies.node };
    // The servers run from the pinned runtime too (PostgreSQL and Redis of the same Debian release).
    const system = !unsafe && env.system.pinned && env.bwrap ? { bwrap: env.bwrap, root: env.system.root } : undefined;
    const services = new Services({ ...options.services, view: unsafe ? 'host' : 'sandbox', system });
    return new Runner(env, limits, unsafe, workRoot, etcDir, copies.harness, services);
  }

  get isolation(): 'bwrap' | 'none' {
    return this.unsafe ? 'none' : 'bwrap';
  }

  get stats(): { running: number; queued: number } {
    return this.pool.stats;
  }

  summary(): LimitsSummary {
    const { wallMsScript, wallMsServer, wallMsPreview, memoryBytes, outputBytes, sourceBytes, messageBytes } = this.limits;
    return { wallMsScript, wallMsServer, wallMsPreview, memoryBytes, outputBytes, sourceBytes, messageBytes };
  }

  /**
   * Starts a run. `emit` receives its events in order and always, last, one `exit`
   * (with reason bad-request, busy or queue-limit when the run never started). `owner`
   * is whose run it is (ws.ts: the page's connection): waiting runs are served
   * round-robin between owners, and each owner may have only so many waiting.
   */
  run(request: { manifest: unknown; files: SandboxFiles; preview?: boolean; owner?: object }, emit: (event: RunEvent) => void): RunHandle {
    const refuse = (why: Reason): RunHandle => {
      emit({ type: 'exit', code: null, signal: null, durationMs: 0, reason: why });
      return { stop: () => undefined, done: Promise.resolve() };
    };
    if (this.closed) return refuse(reason('internal', { detail: 'the runner is shutting down' }));
    const checked = this.check(request);
    if ('detail' in checked) return refuse(reason('bad-request', { detail: checked.detail }));
    if (request.preview && checked.manifest.kind !== 'server') {
      return refuse(reason('bad-request', { detail: 'a live preview is for server sandboxes' }));
    }

    const job = new Job(checked.manifest, request.files, {
      env: this.env,
      limits: this.limits,
      workRoot: this.workRoot,
      harnessDir: this.harnessDir,
      etcDir: this.etcDir,
      unsafe: this.unsafe,
      services: this.services,
      previews: this.previews,
    }, emit, { preview: request.preview === true });
    const submitted = this.pool.submit({
      run: async () => {
        this.jobs.add(job);
        try {
          await job.run();
        } finally {
          this.jobs.delete(job);
        }
      },
      onQueued: (position) => emit({ type: 'queued', position }),
    }, request.owner);
    if ('refused' in submitted) {
      return refuse(submitted.refused === 'busy' ? reason('busy', this.pool.stats) : reason('queue-limit', { waiting: submitted.waiting }));
    }
    return {
      done: submitted.done,
      stop: (why = reason('stopped')) => {
        if (submitted.cancel()) emit({ type: 'exit', code: null, signal: null, durationMs: 0, reason: why });
        else job.stop(why);
      },
    };
  }

  /** Stops every run, waits for them to be cleaned up, removes the runner's directory. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.jobs].map((job) => {
      job.stop(reason('stopped'));
      return new Promise<void>((resolve) => {
        const poll = () => (this.jobs.has(job) ? setTimeout(poll, 10) : resolve());
        poll();
      });
    });
    await Promise.all(pending);
    await this.services.close();
    await this.env.cgroups?.close();
    await rm(this.workRoot, { recursive: true, force: true });
  }

  private check(request: { manifest: unknown; files: SandboxFiles }): { manifest: SandboxManifest } | { detail: string } {
    const parsed = sandboxManifest.safeParse(request.manifest);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { detail: `manifest ${issue.path.map(String).join('.') || ''}: ${issue.message}`.replace('manifest :', 'manifest:') };
    }
    const manifest = parsed.data;
    if (manifest.language === 'python' && !this.env.python) {
      return { detail: this.env.pythonProblem ?? 'no Python for sandboxes on this machine' };
    }
    const names = Object.keys(request.files);
    if (names.length === 0) return { detail: 'no files' };
    if (names.length > this.limits.sourceFiles) return { detail: `${names.length} files; at most ${this.limits.sourceFiles}` };
    const bad = names.find((n) => !isSafeRelativePath(n));
    if (bad !== undefined) return { detail: `file name ${JSON.stringify(bad.slice(0, 80))} is not a plain relative path` };
    // An own property only: `in` would find `constructor`, `__proto__`, `toString` on the prototype.
    if (!Object.hasOwn(request.files, entryFile(manifest))) return { detail: `the entry ${entryFile(manifest)} is not among the files` };
    const bytes = Object.values(request.files).reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    if (bytes > this.limits.sourceBytes) {
      return { detail: `source is ${Math.ceil(bytes / 1024)} KiB; the limit is ${this.limits.sourceBytes / 1024} KiB` };
    }
    return { manifest };
  }
}
