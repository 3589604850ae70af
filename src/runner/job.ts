/**
 * One run, start to finish: write the sources into a fresh directory, start the
 * sandbox in its own cgroup, stream stdout/stderr/trace with their limits, end it on
 * timeout or stop, classify how it ended, and leave nothing behind (no process, no
 * cgroup, no directory). Events go to `emit` in protocol order; `exit` is always last.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { defaultTimeoutMs, type SandboxFiles, type SandboxManifest } from '../protocol/manifest.ts';
import type { RunCgroup } from './cgroup.ts';
import { missingDriver, serviceProcesses, servicesNeeded, ServiceUnavailableError, serviceLabels, type RunServices, type Services } from './services/index.ts';
import type { RunnerEnvironment } from './environment.ts';
import type { Limits } from './limits.ts';
import type { RunEvent } from '../protocol/messages.ts';
import { reason, type Reason } from '../protocol/reasons.ts';
import { buildSandboxCommand } from './sandbox-command.ts';
import { coalesceOutput } from './output-coalescer.ts';
import { openActivationSocket, type ActivationSocket } from './preview/activation.ts';
import type { PreviewHandle, PreviewRegistry } from './preview/registry.ts';

export interface JobContext {
  env: RunnerEnvironment;
  limits: Limits;
  /** Private directory (0700) the runner keeps run directories in. */
  workRoot: string;
  harnessDir: string;
  etcDir: string;
  unsafe: boolean;
  /** The runner's backing services (PostgreSQL, Redis), started on first need. */
  services: Services;
  /** Live previews by capability: a preview run registers its server here once it is ready. */
  previews: PreviewRegistry;
}

/** The descriptor a preview run's listening socket has inside the sandbox (after stdin, stdout, stderr, trace). */
const previewFd = 4;

const MiB = 1024 * 1024;

export class Job {
  readonly id = randomBytes(6).toString('hex');
  private child: ChildProcess | undefined;
  private cgroup: RunCgroup | undefined;
  private endReason: Reason | undefined;
  private outputBytes = 0;
  private traceBytes = 0;
  private traceEvents = 0;
  private traceRemainder = '';
  private traceSkipping = false;
  private readySent = false;
  private sawNoSpace = false;
  private sawTooLarge = false;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private services: RunServices | undefined;
  private activation: ActivationSocket | undefined;
  private preview: PreviewHandle | undefined;

  private readonly manifest: SandboxManifest;
  private readonly files: SandboxFiles;
  private readonly ctx: JobContext;
  private readonly emit: (event: RunEvent) => void;
  /** A server run that keeps serving after its load, reachable through the preview proxy. */
  private readonly wantsPreview: boolean;

  constructor(manifest: SandboxManifest, files: SandboxFiles, ctx: JobContext, emit: (event: RunEvent) => void, options: { preview?: boolean } = {}) {
    this.manifest = manifest;
    this.files = files;
    this.ctx = ctx;
    // Output chunks are joined for a few ms so a line-by-line flood is not one message per line.
    this.emit = coalesceOutput(emit);
    this.wantsPreview = options.preview === true && manifest.kind === 'server';
  }

  /** Ask the run to end; `why` becomes its exit reason. Safe to call at any time, repeatedly. */
  stop(why: Reason): void {
    this.endReason ??= why;
    this.kill();
  }

  /** Runs the sandbox to its end. Never throws: failures become an exit with a reason. */
  async run(): Promise<void> {
    const dir = path.join(this.ctx.workRoot, `run-${this.id}`);
    const startedAt = performance.now();
    let code: number | null = null;
    let signal: string | null = null;
    try {
      if (this.endReason) return; // stopped while queued
      await this.writeSources(dir);
      // Before the services: their servers start inside the run's cgroup, in its memory and CPU
      // budget; the pids budget grows by what they need, so the sandbox keeps its own.
      if (this.ctx.env.cgroups) {
        this.cgroup = await this.ctx.env.cgroups.create(`run-${this.id}`, {
          memoryBytes: this.ctx.limits.memoryBytes,
          processes: this.ctx.limits.processes + serviceProcesses(servicesNeeded(this.manifest)),
          cpuFraction: this.ctx.limits.cpuFraction,
        });
      }
      await this.attachServices();
      if (this.endReason) return; // stopped, or refused, before it started
      ({ code, signal } = await this.spawnAndWait(dir));
    } catch (err) {
      this.endReason ??= reason('internal', { detail: (err as Error).message });
    } finally {
      clearTimeout(this.timer);
      // First: no request reaches the run from now on, and open ones are cut.
      this.preview?.close();
      await this.activation?.remove().catch(() => undefined);
      const classified = await this.classify(code, signal).catch(() => undefined);
      await this.cgroup?.destroy().catch((err: Error) => {
        this.endReason ??= reason('internal', { detail: err.message });
      });
      // After the cgroup is empty (its services' servers went with it): removes their folders.
      await this.services?.release().catch((err: Error) => {
        // The run itself went fine: its cleanup failing is the runner's problem, not the reader's.
        console.warn(`[runner] could not release the services of run ${this.id}: ${err.message}`);
      });
      // rm never follows symlinks; the sandbox saw this directory read-only anyway.
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      this.emit({
        type: 'exit',
        code,
        signal,
        durationMs: Math.round(performance.now() - startedAt),
        reason: pickReason(this.endReason, classified),
      });
    }
  }

  /** A run that needs PostgreSQL or Redis gets a server of its own, or is refused with the reason. */
  private async attachServices(): Promise<void> {
    const needed = servicesNeeded(this.manifest);
    if (needed.length === 0) return;
    try {
      const driver = missingDriver(this.manifest, this.ctx.env.python?.optionalModules ?? []);
      if (driver) throw driver;
      this.services = await this.ctx.services.attach(needed, this.cgroup?.procsFiles);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableError)) throw err;
      this.endReason ??= reason('service-unavailable', { service: serviceLabels[err.service], detail: err.detail });
    }
  }

  private async writeSources(dir: string): Promise<void> {
    const src = path.join(dir, 'src');
    await mkdir(src, { recursive: true, mode: 0o755 });
    for (const [name, content] of Object.entries(this.files)) {
      const target = path.join(src, ...name.split('/'));
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      // 'wx': never through anything already there (names are validated; this is the backstop).
      await writeFile(target, content, { flag: 'wx', mode: 0o644 });
    }
    if (this.ctx.unsafe) {
      await mkdir(path.join(dir, 'work'), { mode: 0o700 });
      await mkdir(path.join(dir, 'tmp'), { mode: 0o700 });
    }
  }

  private async spawnAndWait(dir: string): Promise<{ code: number | null; signal: string | null }> {
    // In the runner's private work root, never in the run's directory: nothing of the sandbox is on this path.
    if (this.wantsPreview) this.activation = await openActivationSocket(path.join(this.ctx.workRoot, `preview-${this.id}.sock`));
    const t0ns = process.hrtime.bigint();
    const argsFd = this.activation ? previewFd + 1 : previewFd; // the next descriptor after the others
    const seccompFd = argsFd + 1;
    const command = buildSandboxCommand({
      manifest: this.manifest,
      env: this.ctx.env,
      limits: this.ctx.limits,
      paths: {
        src: path.join(dir, 'src'),
        harness: this.ctx.harnessDir,
        etc: this.ctx.etcDir,
        work: path.join(dir, 'work'),
        tmp: path.join(dir, 'tmp'),
      },
      cgroupProcs: this.cgroup?.procsFiles ?? [],
      t0ns,
      unsafe: this.ctx.unsafe,
      serviceEnv: this.services?.env,
      serviceMounts: this.services?.mounts,
      previewFd: this.activation ? previewFd : undefined,
      argsFd,
      seccompFd,
    });
    return new Promise((resolve, reject) => {
      const child = spawn(command.file, command.args, {
        env: command.env,
        stdio: [
          ...(['ignore', 'pipe', 'pipe', 'pipe'] as const),
          ...(this.activation ? [this.activation.fd] : []),
          ...(command.argsData !== undefined ? (['pipe', 'pipe'] as const) : []),
        ],
        detached: true,
      });
      if (command.argsData !== undefined) {
        // bwrap reads its options from here to end of file, then closes its copy.
        const args = child.stdio[argsFd] as NodeJS.WritableStream;
        args.on('error', () => undefined); // a sandbox that failed to start: its exit says why
        args.end(command.argsData);
        const seccomp = child.stdio[seccompFd] as NodeJS.WritableStream;
        seccomp.on('error', () => undefined);
        seccomp.end(command.seccompData ?? ''); // bwrap refuses an empty filter: never a run without one
      }
      this.activation?.closeOwnCopy(); // the sandbox has its copy now
      this.child = child;
      child.once('error', reject);
      child.once('spawn', () => {
        this.started = true;
        this.emit({ type: 'started' });
        // A preview run's limit is its own: the manifest's timeoutMs is about the load, not the reader's visit.
        const wallMs = this.wantsPreview
          ? this.ctx.limits.wallMsPreview
          : Math.min(defaultTimeoutMs(this.manifest), this.manifest.kind === 'server' ? this.ctx.limits.wallMsServer : this.ctx.limits.wallMsScript);
        this.timer = setTimeout(() => this.stop(reason('timeout', { seconds: wallMs / 1000 })), wallMs);
        if (this.endReason) this.kill();
      });
      this.pipeOutput(child.stdout!, 'stdout');
      this.pipeOutput(child.stderr!, 'stderr');
      this.pipeTrace(child.stdio[3] as NodeJS.ReadableStream);
      // `close`, not `exit`: it waits until every holder of the pipes is gone.
      child.once('close', (code, signal) => {
        this.flushTrace();
        resolve({ code, signal });
      });
    });
  }

  private kill(): void {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) {
      if (this.started) void this.cgroup?.pids().then((pids) => pids.forEach((pid) => tryKill(pid)));
      return;
    }
    // The group of the shell/bwrap; bwrap's --die-with-parent and the PID namespace take the
    // rest, and the cgroup sweep in destroy() is the backstop for anything that escaped.
    tryKill(-child.pid);
    void this.cgroup?.pids().then((pids) => pids.forEach((pid) => tryKill(pid)));
  }

  private pipeOutput(stream: NodeJS.ReadableStream, type: 'stdout' | 'stderr'): void {
    const decoder = new StringDecoder('utf8');
    const limit = this.ctx.limits.outputBytes;
    stream.on('data', (chunk: Buffer) => {
      if (this.outputBytes >= limit) return;
      const room = limit - this.outputBytes;
      this.outputBytes += chunk.length;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      const text = decoder.write(kept);
      // Python ignores SIGXFSZ, so it meets RLIMIT_FSIZE as EFBIG ("File too large") instead.
      if (type === 'stderr' && text.includes('No space left on device')) this.sawNoSpace = true;
      if (type === 'stderr' && text.includes('File too large')) this.sawTooLarge = true;
      if (text) this.emit({ type, data: text });
      if (this.outputBytes >= limit) {
        const rest = decoder.end();
        this.emit({ type, data: `${rest}\n[output cut at ${limit / 1024} KiB]\n` });
        this.stop(reason('output-limit', { kib: limit / 1024 }));
      }
    });
    stream.on('end', () => {
      const rest = decoder.end();
      if (rest && this.outputBytes < limit) this.emit({ type, data: rest });
    });
  }

  private pipeTrace(stream: NodeJS.ReadableStream): void {
    const decoder = new StringDecoder('utf8');
    stream.on('data', (chunk: Buffer) => this.acceptTrace(decoder.write(chunk), chunk.length));
    stream.on('end', () => this.acceptTrace(decoder.end(), 0));
  }

  /** Splits the side channel into lines, drops over-long ones, forwards complete lines in one message per chunk. */
  private acceptTrace(text: string, bytes: number): void {
    const { traceBytes, traceEvents, traceLineBytes } = this.ctx.limits;
    if (this.traceBytes >= traceBytes || this.traceEvents >= traceEvents) return;
    this.traceBytes += bytes;
    const parts = (this.traceRemainder + text).split('\n');
    this.traceRemainder = parts.pop() ?? '';
    if (this.traceRemainder.length > traceLineBytes) {
      this.traceRemainder = '';
      this.traceSkipping = true; // the rest of this line is garbage too
    }
    const lines: string[] = [];
    for (const line of parts) {
      if (this.traceSkipping) {
        this.traceSkipping = false;
        continue;
      }
      if (line.length === 0 || line.length > traceLineBytes) continue;
      this.traceEvents += 1;
      if (this.traceEvents > traceEvents) break;
      lines.push(line);
      if (!this.readySent && line.includes('"ready"') && line.includes('"harness"')) this.noticeReady(line);
    }
    if (lines.length) this.emit({ type: 'trace', data: lines.join('\n') });
    if (this.traceBytes >= traceBytes || this.traceEvents >= traceEvents) {
      this.stop(reason('trace-limit', { kib: traceBytes / 1024, events: traceEvents }));
    }
  }

  private flushTrace(): void {
    if (this.traceRemainder && !this.traceSkipping && this.traceEvents < this.ctx.limits.traceEvents) {
      this.emit({ type: 'trace', data: this.traceRemainder });
    }
    this.traceRemainder = '';
  }

  private noticeReady(line: string): void {
    try {
      const event = JSON.parse(line) as { cat?: string; name?: string; args?: { port?: number } };
      if (event.cat === 'harness' && event.name === 'ready' && typeof event.args?.port === 'number') {
        this.readySent = true;
        if (this.activation && !this.endReason) {
          this.preview = this.ctx.previews.open(this.activation.path, event.args.port);
          this.emit({ type: 'ready', port: event.args.port, preview: { path: this.preview.path } });
        } else {
          this.emit({ type: 'ready', port: event.args.port });
        }
      }
    } catch {
      // not JSON: left for the trace model to report as garbage
    }
  }

  /** Why a run that ended on its own ended badly, from what the kernel recorded. */
  private async classify(code: number | null, rawSignal: string | null): Promise<Reason | undefined> {
    const stats = await this.cgroup?.stats();
    // bwrap's PID 1 reports a command killed by a signal as exit code 128 + signal.
    const signal = rawSignal ?? (code !== null && code > 128 ? signalName(code - 128) : null);
    const { limits } = this.ctx;
    if (stats && stats.oomKills > 0) {
      // The run's services count in its memory: say so when one of theirs was the process killed.
      const service = this.services?.servers.find((s) => s.lostAProcess());
      return reason('memory', { mib: limits.memoryBytes / MiB, ...(service ? { service: serviceLabels[service.name] } : {}) });
    }
    if (signal === 'SIGXCPU') return reason('cpu', { seconds: limits.cpuSeconds });
    const failed = code !== 0 || signal !== null;
    if (signal === 'SIGXFSZ' || (failed && this.sawTooLarge)) return reason('file-limit', { mib: limits.fileBytes / MiB });
    if (failed && stats && stats.pidsLimitHit > 0) return reason('process-limit', { max: limits.processes });
    if (failed && this.sawNoSpace) return reason('disk-limit', { mib: limits.tmpfsBytes / MiB });
    if (code === 125 && this.ctx.env.cgroups) return reason('internal', { detail: 'could not join the run cgroup' });
    return undefined;
  }
}

/**
 * A limit that killed a process (memory, CPU, file size) explains a run better than the
 * timeout that followed; a stop by the reader or a runner-side limit stands as it is. A
 * timeout is the runner's own decision and wins over limits that only refuse (the process
 * cap refuses a fork, a full disk a write: a program can go on after either), which the
 * timeout's message then mentions.
 */
function pickReason(ended: Reason | undefined, classified: Reason | undefined): Reason | null {
  if (ended && ended.code !== 'timeout') return ended;
  if (ended && classified && (classified.code === 'process-limit' || classified.code === 'disk-limit')) {
    return reason('timeout', { ...ended.params, ...classified.params, alsoHit: classified.code });
  }
  if (classified && ['memory', 'cpu', 'file-limit'].includes(classified.code)) return classified;
  return ended ?? classified ?? null;
}

function signalName(number: number): string | null {
  return Object.entries(constants.signals).find(([, n]) => n === number)?.[0] ?? null;
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
