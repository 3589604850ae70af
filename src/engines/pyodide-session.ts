/**
 * One warm Pyodide interpreter that runs Python script sandboxes through the same
 * tracing harness as the local runner (sandboxes/_harness/python), with the runner's
 * output and trace limits. Environment-neutral: the browser engine's worker drives it,
 * and so does the test suite under Node, which checks every lesson's claim on it.
 */
import type { Lockfile, LockfileInfo, PyodideAPI, loadPyodide } from 'pyodide';

/** The runner's defaults (src/runner/limits.ts, which imports Node APIs; a unit test keeps them equal). */
export const browserLimits = { outputBytes: 1024 * 1024, traceBytes: 1024 * 1024, traceEvents: 10_000 } as const;

/** Harness files the interpreter needs: `_asynclab_*.py`, by file name. */
export type HarnessFiles = Record<string, string>;

export const harnessFileNames = [
  '_asynclab_browser.py',
  '_asynclab_hooks.py',
  '_asynclab_trace.py',
  '_asynclab_tracing.py',
] as const;

export type LimitCode = 'output-limit' | 'trace-limit';

export interface RunSinks {
  stdout(text: string): void;
  stderr(text: string): void;
  /** One NDJSON trace line (no newline). */
  trace(line: string): void;
}

export interface SessionRunResult {
  code: number;
  /** Set when the run was ended by a limit rather than by its own code. */
  limit: LimitCode | undefined;
}

/**
 * A lock file that lists no package: sandboxes use the standard library only, so Pyodide
 * need not fetch the package's own (119 kB, a request before the boot can finish).
 */
export function stdlibOnlyLockfile(info: LockfileInfo): Lockfile {
  return { info, packages: {} };
}

export interface BootOptions {
  indexURL?: string;
  /** The package's lock-file info; without it Pyodide fetches pyodide-lock.json beside indexURL. */
  lockInfo?: LockfileInfo;
  harness: HarnessFiles;
  interrupt?: Int32Array;
  /** Called as each boot step ends, with when it started (`performance.now()`): for the benchmark. */
  onPhase?: (name: string, start: number) => void;
}

const WORK = '/work';
const HARNESS = '/asynclab-harness';

export class PyodideSession {
  private readonly py: PyodideAPI;
  /** Written by this thread when a limit is hit, and by the page on Stop when memory is shared. */
  private readonly interrupt: Int32Array;
  private sinks: RunSinks | undefined;
  private outputBytes = 0;
  private traceBytes = 0;
  private traceEvents = 0;
  private limit: LimitCode | undefined;

  private constructor(py: PyodideAPI, interrupt: Int32Array) {
    this.py = py;
    this.interrupt = interrupt;
  }

  /**
   * Starts the interpreter and installs the harness. `interrupt` is shared with the page
   * when the page is cross-origin isolated (so Stop can reach a busy run); otherwise a
   * private buffer still lets the session stop a run that hits a limit.
   */
  static async boot(load: typeof loadPyodide, options: BootOptions): Promise<PyodideSession> {
    const now = () => performance.now();
    const loadStarted = now();
    const py = await load({
      ...(options.indexURL ? { indexURL: options.indexURL } : {}),
      ...(options.lockInfo ? { lockFileContents: stdlibOnlyLockfile(options.lockInfo) } : {}),
      env: { ASYNCLAB_WORK: WORK, ASYNCLAB_TRACE_FD: '-1', HOME: WORK, PYTHONHASHSEED: '0' },
      // Nothing from a package index: stdlib only, and no network to fetch from.
      packages: [],
    });
    options.onPhase?.('loadPyodide', loadStarted);
    const harnessStarted = now();
    const session = new PyodideSession(py, options.interrupt ?? new Int32Array(1));
    py.setInterruptBuffer(session.interrupt);
    py.FS.mkdirTree(HARNESS);
    py.FS.mkdirTree(WORK);
    for (const name of harnessFileNames) {
      const text = options.harness[name];
      if (text === undefined) throw new Error(`the Python harness file ${name} is missing`);
      py.FS.writeFile(`${HARNESS}/${name}`, text);
    }
    session.wireStreams();
    py.registerJsModule('_asynclab_js', { trace: (line: string) => session.onTrace(line) });
    py.runPython(`
import sys
sys.path.insert(0, ${JSON.stringify(HARNESS)})
import _asynclab_js, _asynclab_browser, _asynclab_tracing
_asynclab_browser.install(_asynclab_js.trace)
_asynclab_tracing.install()
`);
    options.onPhase?.('harness', harnessStarted);
    return session;
  }

  /** Runs Python outside any sandbox run and returns its last expression (build tools use it). */
  evaluate(code: string): unknown {
    return this.py.runPython(code);
  }

  /** Python's version, for the status line. */
  get version(): string {
    return String(this.py.runPython('import sys; sys.version.split()[0]'));
  }

  private wireStreams(): void {
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    for (const stream of ['stdout', 'stderr'] as const) {
      const write = (bytes: Uint8Array): number => {
        if (this.limit) return bytes.length; // already cut: swallow the rest until the interrupt lands
        this.outputBytes += bytes.length;
        if (this.outputBytes > browserLimits.outputBytes) {
          this.stopFor('output-limit');
          return bytes.length;
        }
        this.sinks?.[stream](decoders[stream].decode(bytes, { stream: true }));
        return bytes.length;
      };
      // isatty: line-buffered like a terminal, so output streams while the run goes on.
      if (stream === 'stdout') this.py.setStdout({ write, isatty: true });
      else this.py.setStderr({ write, isatty: true });
    }
  }

  private onTrace(line: string): void {
    if (this.limit) return;
    this.traceBytes += line.length + 1;
    this.traceEvents += 1;
    if (this.traceBytes > browserLimits.traceBytes || this.traceEvents > browserLimits.traceEvents) {
      this.stopFor('trace-limit');
      return;
    }
    this.sinks?.trace(line);
  }

  private stopFor(limit: LimitCode): void {
    this.limit = limit;
    this.interrupt[0] = 2; // SIGINT: Python raises KeyboardInterrupt at its next check
  }

  /** Runs one sandbox to its end: fresh files in /work, fresh lanes, the entry as __main__. */
  run(files: Record<string, string>, entry: string, sinks: RunSinks): SessionRunResult {
    const { FS } = this.py;
    for (const name of FS.readdir(WORK) as string[]) {
      if (name !== '.' && name !== '..') removeTree(FS, `${WORK}/${name}`);
    }
    for (const [name, text] of Object.entries(files)) {
      const slash = name.lastIndexOf('/');
      if (slash > 0) FS.mkdirTree(`${WORK}/${name.slice(0, slash)}`);
      FS.writeFile(`${WORK}/${name}`, text);
    }
    this.sinks = sinks;
    this.outputBytes = this.traceBytes = this.traceEvents = 0;
    this.limit = undefined;
    this.interrupt[0] = 0;
    try {
      const code = this.py.runPython(`import _asynclab_browser; _asynclab_browser.run(${JSON.stringify(WORK)}, ${JSON.stringify(entry)})`) as number;
      return { code, limit: this.limit };
    } finally {
      this.interrupt[0] = 0;
      this.sinks = undefined;
    }
  }
}

type PyodideFS = PyodideAPI['FS'];

function removeTree(FS: PyodideFS, path: string): void {
  if (FS.isDir(FS.stat(path).mode)) {
    for (const name of FS.readdir(path) as string[]) if (name !== '.' && name !== '..') removeTree(FS, `${path}/${name}`);
    FS.rmdir(path);
  } else {
    FS.unlink(path);
  }
}
