/**
 * Runner latencies for `npm run bench`: median and p95 over repeated runs, next to the
 * floors of the same machine (bare interpreter start, bare imports) measured in the same run.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Runner } from '../runner/runner.ts';
import { inRootArgv } from '../runtime/system-root.ts';
import type { RunEvent } from '../protocol/messages.ts';
import type { SandboxFiles, SandboxManifestInput } from '../protocol/manifest.ts';

const exec = promisify(execFile);

export interface Stat {
  runs: number;
  medianMs: number;
  p95Ms: number;
}

export function stat(samples: number[]): Stat {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { runs: sorted.length, medianMs: round(at(0.5)), p95Ms: round(at(0.95)) };
}

async function repeat(times: number, once: () => Promise<number>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) samples.push(await once());
  return samples;
}

/** Milliseconds from `run()` to the first event matching each probe. */
function timeRun(runner: Runner, request: { manifest: SandboxManifestInput; files: SandboxFiles }, probes: Record<string, (e: RunEvent, count: number) => boolean>) {
  return new Promise<Record<string, number>>((resolve, reject) => {
    const started = performance.now();
    const times: Record<string, number> = {};
    let requests = 0;
    runner.run(request, (event) => {
      if (event.type === 'trace') requests += event.data.split('\n').filter((l) => l.includes('"cat":"request"') && l.includes('"ph":"E"')).length;
      for (const [name, probe] of Object.entries(probes)) if (!(name in times) && probe(event, requests)) times[name] = performance.now() - started;
      if (event.type === 'exit') {
        if (event.code !== 0 || event.reason) reject(new Error(`bench run failed: ${JSON.stringify(event)}`));
        else resolve(times);
      }
    });
  });
}

const trivialScript = {
  manifest: { id: 'bench-script', title: { en: 'bench', zh: 'bench' }, language: 'python', kind: 'script', entry: 'main.py' },
  files: { 'main.py': 'print("x")\n' },
} satisfies { manifest: SandboxManifestInput; files: SandboxFiles };

export const fastapiServer = {
  manifest: {
    id: 'bench-server',
    title: { en: 'bench', zh: 'bench' },
    language: 'python',
    kind: 'server',
    entry: 'main:app',
    load: [{ path: '/ping', count: 5 }],
  },
  files: { 'main.py': 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/ping")\nasync def ping() -> dict:\n    return {"ok": True}\n' },
} satisfies { manifest: SandboxManifestInput; files: SandboxFiles };

export async function benchRunner(times = 12) {
  const runner = await Runner.start();
  // The floors run the same interpreter the sandboxes do: the runtime root's, through bubblewrap.
  const inRoot = (argv: string[], binds: string[] = []) => inRootArgv(runner.env.bwrap, runner.env.system.root, argv, binds);
  const python = runner.env.python!.executable;
  try {
    const floor = async (args: string[]) => {
      const [file, ...rest] = inRoot([python, ...args]);
      const started = performance.now();
      await exec(file!, rest);
      return performance.now() - started;
    };
    const script = await repeat(times, async () => (await timeRun(runner, trivialScript, { firstStdout: (e) => e.type === 'stdout' })).firstStdout!);
    const ready: number[] = [];
    const lastResponse: number[] = [];
    for (let i = 0; i < times; i++) {
      const t = await timeRun(runner, fastapiServer, { ready: (e) => e.type === 'ready', lastResponse: (_e, n) => n >= 5 });
      ready.push(t.ready!);
      lastResponse.push(t.lastResponse!);
    }
    return {
      isolation: runner.isolation,
      python: runner.env.python!.version,
      scriptStartToFirstStdout: stat(script),
      fastapiStartToReady: stat(ready),
      fastapiStartToLastOf5Responses: stat(lastResponse),
      tracingOverhead: await benchTracingOverhead((argv, binds) => inRoot([python, ...argv], binds), fileURLToPath(new URL('../../sandboxes/_harness', import.meta.url))),
      floors: {
        pythonPass: stat(await repeat(times, () => floor(['-c', 'pass']))),
        pythonImportFastapiUvicorn: stat(await repeat(times, () => floor(['-c', 'import fastapi, uvicorn']))),
      },
    };
  } finally {
    await runner.close();
  }
}

/**
 * What tracing costs: the same gather of 100 tasks (each 20 rounds of a 5 ms sleep and a
 * little work) run by the Python harness with tracing on and off, fd 3 to /dev/null;
 * wall time measured inside the script, median of 7 each.
 */
export async function benchTracingOverhead(pythonArgv: (args: string[], binds: string[]) => string[], harnessDir: string, times = 7) {
  const dir = await mkdtemp(path.join(tmpdir(), 'asynclab-overhead-'));
  const script = `import asyncio, time

async def worker():
    for _ in range(20):
        await asyncio.sleep(0.005)
        sum(range(2000))

async def main():
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(100)))
    print((time.perf_counter() - t0) * 1000)

asyncio.run(main())
`;
  await writeFile(path.join(dir, 'main.py'), script);
  const sink = openSync('/dev/null', 'w');
  const once = async (trace: boolean): Promise<number> => {
    return new Promise((resolve, reject) => {
      const [file, ...args] = pythonArgv(['-u', '-s', path.join(harnessDir, 'python', 'run.py')], [dir, harnessDir]);
      const child = spawn(file!, args, {
        cwd: dir,
        env: { PATH: '/usr/bin:/bin', ASYNCLAB_ENTRY: 'main.py', ASYNCLAB_WORK: dir, ASYNCLAB_TRACE: trace ? '1' : '0' },
        stdio: ['ignore', 'pipe', 'inherit', sink],
      });
      let out = '';
      child.stdout!.on('data', (chunk) => (out += chunk));
      child.once('error', reject);
      child.once('close', () => resolve(Number(out.trim())));
    });
  };
  try {
    const off: number[] = [];
    const on: number[] = [];
    for (let i = 0; i < times; i++) {
      off.push(await once(false));
      on.push(await once(true));
    }
    const offStat = stat(off);
    const onStat = stat(on);
    return {
      workload: 'gather of 100 tasks × 20 × (sleep 5 ms + sum(range(2000)))',
      tracingOff: offStat,
      tracingOn: onStat,
      overheadPercent: Math.round(((onStat.medianMs - offStat.medianMs) / offStat.medianMs) * 1000) / 10,
    };
  } finally {
    closeSync(sink);
    await rm(dir, { recursive: true, force: true });
  }
}
