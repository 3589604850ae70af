/**
 * `npm run record [-- <id>…]`: runs every sandbox (or the named ones) through the local
 * runner, two at a time so timings stay honest on a small machine, checks each run
 * against its `expect`, and writes `sandboxes/<id>/recorded.json` for the ones that hold.
 * A sandbox whose claim fails is reported and its old recording left alone.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultLimits } from '../runner/limits.ts';
import { Runner } from '../runner/runner.ts';
import { pythonRuntimeLabel } from '../runner/environment.ts';
import { listSandboxIds, loadSandbox, type Sandbox } from '../sandbox/load-sandbox.ts';
import { recordingFile, type Recording } from '../sandbox/recording.ts';
import { checkExpect, explainFailures } from '../timeline/expect.ts';
import { buildModel } from '../timeline/model.ts';
import { summarize } from '../timeline/summary.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sandboxesDir = path.join(root, 'sandboxes');

export interface FreshRun {
  recording: Recording;
  failures: string;
}

/** Runs one sandbox and checks it; the recording is what would be written. */
export function runAndCheck(runner: Runner, id: string, sandbox: Sandbox): Promise<FreshRun> {
  return new Promise((resolve) => {
    const out: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] };
    const trace: string[] = [];
    runner.run(sandbox, (event) => {
      if (event.type === 'stdout' || event.type === 'stderr') out[event.type].push(event.data);
      if (event.type === 'trace') trace.push(...event.data.split('\n'));
      if (event.type !== 'exit') return;
      const stdout = out.stdout.join('');
      const recording: Recording = {
        sandbox: id,
        recordedAt: new Date().toISOString(),
        runtime: sandbox.manifest.language === 'python' ? pythonRuntimeLabel(runner.env) : `Node ${process.version}`,
        exit: { code: event.code, signal: event.signal, durationMs: event.durationMs },
        stdout: stdout.slice(0, 64 * 1024),
        stderr: out.stderr.join('').slice(0, 16 * 1024),
        trace,
      };
      const reason = event.reason ? `the run ended abnormally: ${event.reason.message}` : '';
      const failures = [reason, explainFailures(checkExpect(sandbox.manifest.expect ?? {}, buildModel(trace), { exitCode: event.code, stdout }))]
        .filter(Boolean)
        .join('; ');
      resolve({ recording, failures });
    });
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const ids = wanted.length ? wanted : await listSandboxIds(sandboxesDir);
  const runner = await Runner.start({ limits: { ...defaultLimits, concurrency: 2 } });
  let failed = 0;
  // Submit no more than the runner runs at once: the course has more sandboxes than its queue
  // holds, and a run refused as busy would count as a failed claim.
  const pending = [...ids];
  const record = async (id: string) => {
    const sandbox = await loadSandbox(sandboxesDir, id, root);
    const { recording, failures } = await runAndCheck(runner, id, sandbox);
    const s = summarize(buildModel(recording.trace));
    const line = `${id}: wall ${s.wallMs} ms, peak requests ${s.peakConcurrency.request} / handlers ${s.peakConcurrency.handler} / tasks ${s.peakConcurrency.task}, loop blocked ${s.loopBlockedMs} ms`;
    if (failures) {
      failed += 1;
      console.error(`✗ ${line}\n    ${failures}`);
      return;
    }
    await writeFile(path.join(sandboxesDir, id, recordingFile), `${JSON.stringify(recording, null, 1)}\n`);
    console.log(`✓ ${line}`);
  };
  const lane = async () => {
    for (let id = pending.shift(); id !== undefined; id = pending.shift()) await record(id);
  };
  try {
    await Promise.all([lane(), lane()]);
  } finally {
    await runner.close();
  }
  if (failed) {
    console.error(`${failed} sandbox(es) did not hold their claim; their recordings were not updated.`);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
