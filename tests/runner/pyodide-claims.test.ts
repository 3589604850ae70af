/**
 * The in-browser Python engine keeps every lesson's claim: each Python script sandbox
 * that needs nothing (the ones Pyodide runs on a static host) runs here in the real
 * Pyodide interpreter, through the same harness the page's worker uses, and its trace
 * must satisfy the sandbox's `expect` exactly as the local runner's does.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadPyodide } from 'pyodide';
import { defaultLimits } from '../../src/runner/limits.ts';
import { listSandboxIds, loadSandbox } from '../../src/sandbox/load-sandbox.ts';
import { PyodideEngine } from '../../src/engines/pyodide.ts';
import { browserLimits, harnessFileNames, PyodideSession, type HarnessFiles } from '../../src/engines/pyodide-session.ts';
import { checkExpect, explainFailures } from '../../src/timeline/expect.ts';
import { pyodidePackage } from '../../src/tools/pyodide-assets.ts';
import { buildStdlibZip, type StdlibSummary } from '../../src/tools/pyodide-stdlib.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { summarize } from '../../src/timeline/summary.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const sandboxesDir = path.join(root, 'sandboxes');
const harnessDir = path.join(sandboxesDir, '_harness', 'python');
let session: PyodideSession;

async function harness(): Promise<HarnessFiles> {
  const files: HarnessFiles = {};
  for (const name of harnessFileNames) files[name] = await readFile(path.join(harnessDir, name), 'utf8');
  return files;
}

function run(files: Record<string, string>, entry: string) {
  let stdout = '';
  let stderr = '';
  const trace: string[] = [];
  const result = session.run(files, entry, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), trace: (l) => trace.push(l) });
  return { ...result, stdout, stderr, trace };
}

let stdlib: { zip: Uint8Array; summary: StdlibSummary };

before(async () => {
  // As the built site boots it: the build's stdlib zip (with bytecode, fewer modules) and an
  // empty lock file, so nothing but that standard library is there.
  stdlib = await buildStdlibZip(loadPyodide, await harness());
  const dir = await mkdtemp(path.join(tmpdir(), 'asynclab-stdlib-'));
  const stdLibURL = path.join(dir, 'python_stdlib.zip');
  await writeFile(stdLibURL, stdlib.zip);
  session = await PyodideSession.boot((options) => loadPyodide({ ...options, stdLibURL }), { harness: await harness(), lockInfo: pyodidePackage().lockInfo });
});

test('the build\'s stdlib holds bytecode for what the boot imports, and none of what a worker cannot use', () => {
  assert.ok(stdlib.summary.compiled >= 100, `only ${stdlib.summary.compiled} modules compiled`);
  assert.ok(stdlib.summary.dropped > 0);
  const names = String(session.evaluate("import zipfile, sys; '\\n'.join(zipfile.ZipFile(next(p for p in sys.path if p.endswith('.zip'))).namelist())")).split('\n');
  for (const name of ['asyncio/base_events.pyc', 'asyncio/base_events.py', 'asyncio/tasks.pyc', 'traceback.pyc']) assert.ok(names.includes(name), `${name} missing`);
  assert.ok(!names.some((n) => n.startsWith('_pyrepl/') || n.startsWith('ensurepip/')), 'dropped packages are still there');
  // The running interpreter took asyncio from the bytecode, not by compiling the source.
  assert.match(String(session.evaluate('import asyncio.base_events as b; b.__file__')), /asyncio\/base_events\.pyc$/);
});

test('the browser limits are the runner\'s', () => {
  assert.equal(browserLimits.outputBytes, defaultLimits.outputBytes);
  assert.equal(browserLimits.traceBytes, defaultLimits.traceBytes);
  assert.equal(browserLimits.traceEvents, defaultLimits.traceEvents);
});

test('every sandbox the Pyodide engine accepts keeps its claim in Pyodide', async () => {
  // The engine's own rule decides which sandboxes run here (its worker is not needed to ask).
  const engine = new PyodideEngine({ assetsUrl: 'unused', createWorker: () => assert.fail('no worker in this test') });
  const ids = (await listSandboxIds(sandboxesDir)).sort();
  const ran: string[] = [];
  for (const id of ids) {
    const { manifest, files } = await loadSandbox(sandboxesDir, id, root);
    if (!engine.supports(manifest).ok) continue;
    const result = run(files, manifest.entry);
    const failures = explainFailures(checkExpect(manifest.expect ?? {}, buildModel(result.trace), { exitCode: result.code, stdout: result.stdout }));
    assert.equal(failures, '', `${id} in Pyodide: ${failures}\nstderr: ${result.stderr}`);
    ran.push(id);
  }
  // The lessons' gather and time.sleep examples are among them (issue 7's promise).
  for (const id of ['event-loop-two-sleeps', 'coroutines-and-tasks-order', 'why-async-concurrent']) assert.ok(ran.includes(id), `${id} did not run in Pyodide`);
});

test('gather overlaps tasks and time.sleep blocks the loop, drawn from the Pyodide trace', () => {
  const result = run(
    {
      'main.py': [
        'import asyncio, time',
        'async def nap(): await asyncio.sleep(0.3)',
        'async def doze(): time.sleep(0.2)',
        'async def main():',
        '    await asyncio.gather(nap(), nap(), nap())',
        '    await asyncio.gather(doze(), doze())',
        'asyncio.run(main())',
      ].join('\n'),
    },
    'main.py',
  );
  assert.equal(result.code, 0, result.stderr);
  const summary = summarize(buildModel(result.trace));
  assert.ok(summary.peakConcurrency.task >= 3, `peak task concurrency ${summary.peakConcurrency.task}`);
  assert.ok(summary.loopBlockedMs >= 380 && summary.loopBlockedMs < 600, `loop blocked ${summary.loopBlockedMs} ms`);
});

test('a warm interpreter starts each run afresh: names, clock, files and modules', () => {
  const first = run({ 'main.py': 'import helper\nhelper.go()\n', 'helper.py': 'import asyncio\ndef go():\n    async def job(): await asyncio.sleep(0.01)\n    asyncio.run(job())\n    print("one")\n' }, 'main.py');
  const second = run({ 'main.py': 'import helper\nhelper.go()\n', 'helper.py': 'import asyncio\ndef go():\n    async def job(): await asyncio.sleep(0.01)\n    asyncio.run(job())\n    print("two")\n' }, 'main.py');
  assert.equal(first.stdout, 'one\n');
  assert.equal(second.stdout, 'two\n', 'the edited helper module must be imported afresh');
  const lanes = (r: typeof first) => r.trace.map((l) => JSON.parse(l) as { lane: string; ts: number });
  assert.deepEqual([...new Set(lanes(second).map((e) => e.lane))], ['task go.job']);
  assert.ok(Math.min(...lanes(second).map((e) => e.ts)) < 1_000_000, 'the clock restarts at each run');
  const leftover = run({ 'main.py': 'import os\nprint(sorted(os.listdir(".")))\n' }, 'main.py');
  assert.equal(leftover.stdout, "['main.py']\n");
});

test('nothing a run defines or leaves running reaches the next run on the same interpreter', () => {
  const first = run({ 'main.py': 'import asyncio\nsecret = 42\nasync def main():\n    while True:\n        print("x" * 1000)\n        await asyncio.sleep(0)\nasyncio.run(main())\n' }, 'main.py');
  assert.equal(first.limit, 'output-limit', 'the first run ends inside a running event loop');
  const second = run(
    {
      'main.py': [
        'import asyncio',
        'print("secret" in globals(), __name__)',
        'async def main():',
        '    await asyncio.sleep(0.01)',
        '    return "loop ok"',
        'print(asyncio.run(main()))',
      ].join('\n'),
    },
    'main.py',
  );
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, 'False __main__\nloop ok\n');
});

test('only the standard library is installed: a package import fails as it would without pip install', () => {
  const result = run({ 'main.py': 'import numpy\n' }, 'main.py');
  assert.equal(result.code, 1);
  assert.match(result.stderr, /ModuleNotFoundError: No module named 'numpy'/);
});

test('exit codes and tracebacks read as python3 would print them', () => {
  const failed = run({ 'main.py': 'def f():\n    raise ValueError("boom")\nf()\n' }, 'main.py');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /^Traceback \(most recent call last\):\n {2}File "\/work\/main.py", line 3/);
  assert.match(failed.stderr, /ValueError: boom/);
  assert.doesNotMatch(failed.stderr, /runpy|_asynclab/);
  // Frames in the standard library keep their source lines (the zip keeps each .py beside its .pyc).
  const inStdlib = run({ 'main.py': 'import asyncio\nasyncio.run(42)\n' }, 'main.py');
  assert.match(inStdlib.stderr, /File "[^"]*asyncio\/\w+\.py", line \d+, in \w+\n {4}\S/);
  assert.equal(run({ 'main.py': 'import sys\nsys.exit(3)\n' }, 'main.py').code, 3);
});

test('a flood of output is cut at the limit and the run ends', () => {
  const result = run({ 'main.py': 'while True:\n    print("x" * 1000)\n' }, 'main.py');
  assert.equal(result.limit, 'output-limit');
  assert.ok(result.stdout.length <= browserLimits.outputBytes);
  assert.equal(run({ 'main.py': 'print("fine")\n' }, 'main.py').stdout, 'fine\n', 'the next run is healthy');
});
