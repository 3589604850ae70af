/**
 * Issue 15, item 8: a runner that dies without closing (SIGKILL) leaves its work directory,
 * its cgroups and its services' data behind; the next runner to start sweeps them, says
 * what it removed in one log line, and touches nothing of a runner that is still alive —
 * in another process or in its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runnerGroupFolders } from '../../src/runner/cgroup.ts';
import { defaultLimits } from '../../src/runner/limits.ts';
import type { RunEvent } from '../../src/protocol/messages.ts';
import { Runner } from '../../src/runner/runner.ts';
import { ownerFile, processStartTicks, workRootPrefix } from '../../src/runner/sweep.ts';
import { processesWith, python } from './helpers.ts';

const limits = { ...defaultLimits, wallMsScript: 120_000 };

/** A script that starts three long sleepers (named by `marker` on their command line) and says "up". */
function sleepers(marker: string, needs: string[] = []) {
  const source = `import subprocess, sys, time
for i in range(3):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", ${JSON.stringify(marker)}])
print("up", flush=True)
time.sleep(600)
`;
  return python(source, { timeoutMs: 60_000, needs: needs as never });
}

const childScript = (marker: string, needs: string[]) => `
import { Runner } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/runner/runner.ts'))};
const runner = await Runner.start({ limits: ${JSON.stringify(limits)}, log: () => undefined });
const request = ${JSON.stringify(sleepers(marker, needs))};
runner.run(request, (event) => {
  if (event.type === 'stdout' && event.data.includes('up')) console.log(JSON.stringify({ pid: process.pid, workRoot: runner.workRoot }));
  if (event.type === 'exit') console.log(JSON.stringify({ exit: event }));
});
process.stdin.once('data', async () => {
  await runner.close();
  process.exit(0);
});
`;

interface ChildRunner {
  child: ChildProcess;
  pid: number;
  workRoot: string;
  lines: string[];
}

/** A runner in a child process with one run that keeps processes alive; resolves once the run is up. */
async function childRunner(marker: string, needs: string[] = []): Promise<ChildRunner> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', childScript(marker, needs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const complete = out.split('\n');
      out = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        if (lines.length === 1) resolve(line);
      }
    });
    child.once('exit', () => reject(new Error(`the child runner exited early: ${lines.join('\n')}`)));
    setTimeout(() => reject(new Error('the child runner was not up within 60 s')), 60_000).unref();
  });
  const { pid, workRoot } = JSON.parse(first) as { pid: number; workRoot: string };
  assert.ok(pid && workRoot, first);
  return { child, pid, workRoot, lines };
}

async function groupsOf(pid: number): Promise<string[]> {
  return (await runnerGroupFolders()).filter((f) => f.pid === pid).map((f) => f.dir);
}

function serviceDirsOf(pid: number): string[] {
  const base = '/tmp';
  return ['postgres', 'redis'].flatMap((s) => {
    const names = readdirNames(base).filter((n) => n.startsWith(`asynclab-${s}-${pid}-`));
    return names.map((n) => path.join(base, n));
  });
}

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a runner killed with SIGKILL: the next runner removes its directory, cgroups, processes and service data, says so, and leaves live runners alone', async (t) => {
  const deadMarker = `sweep-dead-${process.pid}`;
  const otherMarker = `sweep-other-${process.pid}`;
  const ownMarker = `sweep-own-${process.pid}`;

  // A live runner in this process, one in another process, and the one that will die.
  const own = await Runner.start({ limits, log: () => undefined });
  const ownEvents: RunEvent[] = [];
  const ownRun = own.run(sleepers(ownMarker), (e) => ownEvents.push(e));
  const other = await childRunner(otherMarker);
  const dead = await childRunner(deadMarker, ['postgres', 'redis']);
  // Whatever an assertion below throws, no child runner may outlive the test (it would hold the test process open).
  t.after(() => {
    for (const child of [other.child, dead.child]) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await until(() => ownEvents.some((e) => e.type === 'stdout' && e.data.includes('up')), 60_000, 'the own run to be up');

  const deadGroups = await groupsOf(dead.pid);
  const deadServiceDirs = serviceDirsOf(dead.pid);
  assert.ok(deadGroups.length >= 1, 'the runner to be killed has cgroups');
  // The run's own PostgreSQL and Redis (and PostgreSQL's per-runner template): at least one folder of each.
  for (const service of ['postgres', 'redis']) {
    assert.ok(deadServiceDirs.some((dir) => path.basename(dir).startsWith(`asynclab-${service}-`)), `it has ${service} data: ${deadServiceDirs}`);
  }
  const runGroups = deadGroups.flatMap((dir) => readdirNames(dir).filter((n) => n.startsWith('run-')).map((n) => path.join(dir, n)));
  assert.ok(runGroups.length >= 1, `its run has groups: ${deadGroups}`);

  const exited = new Promise((resolve) => dead.child.once('exit', resolve));
  dead.child.kill('SIGKILL');
  await exited;

  // A process that outlived the runner in its run's groups (as one that escaped bubblewrap's
  // death would): the sweep must find and kill it. It is this test's own `sleep`.
  const straggler = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  await new Promise((resolve) => straggler.once('spawn', resolve));
  for (const group of runGroups) writeFileSync(path.join(group, 'cgroup.procs'), String(straggler.pid));
  const stragglerGone = new Promise((resolve) => straggler.once('exit', resolve));
  assert.ok(existsSync(dead.workRoot), 'the killed runner could not remove its directory');

  const otherGroups = await groupsOf(other.pid);
  const ownGroups = await groupsOf(process.pid);
  const logged: string[] = [];
  const next = await Runner.start({ log: (line) => logged.push(line) });
  try {
    // What the dead runner left is gone.
    assert.equal(existsSync(dead.workRoot), false, 'its work directory');
    assert.deepEqual(deadGroups.filter(existsSync), [], 'its cgroups');
    assert.deepEqual(deadServiceDirs.filter(existsSync), [], 'its service data');
    await Promise.race([stragglerGone, new Promise((_, reject) => setTimeout(() => reject(new Error('the straggler was not killed')), 5_000))]);
    await until(() => processesWith(deadMarker).length === 0, 10_000, 'the dead runner\'s sandbox processes to be gone');

    // And the one log line says so, naming them.
    assert.equal(logged.length, 1, logged.join('\n'));
    const line = logged[0]!;
    assert.match(line, /^\[runner\] swept what dead runners left: \d+ work director(y|ies)/);
    for (const item of [dead.workRoot, ...deadGroups, ...runGroups, ...deadServiceDirs, String(straggler.pid)]) {
      assert.ok(line.includes(item), `the log line names ${item}: ${line}`);
    }

    // Live runners, in this process and in another, are untouched.
    assert.ok(existsSync(other.workRoot) && existsSync(own.workRoot), 'live work directories');
    assert.deepEqual(otherGroups.filter((g) => !existsSync(g)), [], 'the other process\'s cgroups');
    assert.deepEqual(ownGroups.filter((g) => !existsSync(g)), [], 'this process\'s cgroups');
    assert.ok(!line.includes(other.workRoot) && !line.includes(own.workRoot), line);
    // (The other runner's own command line carries the marker too: its script names it.)
    assert.equal(processesWith(otherMarker).filter((p) => p !== other.child.pid).length, 3, 'the other runner\'s sleepers');
    assert.equal(processesWith(ownMarker).length, 3, 'this runner\'s sleepers');
    assert.ok(!ownEvents.some((e) => e.type === 'exit'), 'the own run is still going');
  } finally {
    await next.close();
    ownRun.stop();
    await ownRun.done;
    other.child.stdin!.write('close\n');
    await new Promise((resolve) => other.child.once('exit', resolve));
    await own.close();
    straggler.kill('SIGKILL');
  }
  const ownExit = ownEvents.at(-1);
  assert.equal(ownExit?.type === 'exit' && ownExit.reason?.code, 'stopped', JSON.stringify(ownExit));
  const otherExit = other.lines.map((l) => JSON.parse(l) as { exit?: RunEvent }).find((m) => m.exit)?.exit;
  assert.equal(otherExit?.type === 'exit' && otherExit.reason?.code, 'stopped', `the other runner's run ended by its close: ${other.lines.join('\n')}`);
  assert.deepEqual([...processesWith(ownMarker), ...processesWith(otherMarker)], []);
  assert.equal(existsSync(other.workRoot), false);
});

test('a work directory is swept only when its owner (pid and start time) is gone; one without an owner file never', async () => {
  const live = await Runner.start({ log: () => undefined });
  const noOwner = await mkdtemp(path.join(tmpdir(), workRootPrefix));
  const reused = await mkdtemp(path.join(tmpdir(), workRootPrefix));
  try {
    assert.equal(readFileSync(path.join(live.workRoot, ownerFile), 'utf8'), `${process.pid} ${processStartTicks(process.pid)}\n`);
    // A live pid, but another start time: the process that made it is gone and the pid was reused.
    await writeFile(path.join(reused, ownerFile), `${process.pid} ${processStartTicks(process.pid)! - 1}\n`);
    const logged: string[] = [];
    const second = await Runner.start({ log: (line) => logged.push(line) });
    await second.close();
    assert.equal(existsSync(reused), false, 'the reused pid\'s directory is swept');
    assert.ok(logged.join('\n').includes(reused), logged.join('\n'));
    assert.ok(existsSync(live.workRoot) && existsSync(noOwner), 'the live runner\'s and the unowned directories stay');
    assert.ok(!logged.join('\n').includes(live.workRoot) && !logged.join('\n').includes(noOwner), logged.join('\n'));
  } finally {
    await live.close();
    await rm(noOwner, { recursive: true, force: true });
    await rm(reused, { recursive: true, force: true });
  }
});

test('a cgroup folder of a live pid is swept only if that process started after the folder was made (pid reuse)', async () => {
  const runner = await Runner.start({ log: () => undefined });
  // This process's own folders exist now; the test's folders go beside them.
  const bases = [...new Set((await runnerGroupFolders()).filter((f) => f.pid === process.pid).map((f) => path.dirname(f.dir)))];
  const reusedPid = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  const livePid = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  await Promise.all([reusedPid, livePid].map((c) => new Promise((resolve) => c.once('spawn', resolve))));
  const reusedGone = new Promise((resolve) => reusedPid.once('exit', resolve));
  const reusedDirs = bases.map((base) => path.join(base, String(reusedPid.pid)));
  const liveDirs = bases.map((base) => path.join(base, String(livePid.pid)));
  try {
    for (const dir of [...reusedDirs, ...liveDirs]) await mkdir(path.join(dir, 'run-test'), { recursive: true });
    // An hour old: made by an earlier process that had this pid. The sleeper in it is taken for its leftover.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    for (const dir of reusedDirs) await utimes(dir, anHourAgo, anHourAgo);
    writeFileSync(path.join(reusedDirs[0]!, 'run-test', 'cgroup.procs'), String(reusedPid.pid));
    const logged: string[] = [];
    const next = await Runner.start({ log: (line) => logged.push(line) });
    await next.close();
    assert.deepEqual(reusedDirs.filter(existsSync), [], 'the old folders of a reused pid are swept');
    await Promise.race([reusedGone, new Promise((_, reject) => setTimeout(() => reject(new Error('the process in the swept group lives on')), 5_000))]);
    assert.deepEqual(liveDirs.filter((d) => !existsSync(d)), [], 'a live process\'s fresh folders stay');
    for (const dir of reusedDirs) assert.ok(logged.join('\n').includes(dir), logged.join('\n'));
  } finally {
    reusedPid.kill('SIGKILL');
    livePid.kill('SIGKILL');
    for (const dir of [...reusedDirs, ...liveDirs]) {
      await rmdir(path.join(dir, 'run-test')).catch(() => undefined);
      await rmdir(dir).catch(() => undefined);
    }
    await runner.close();
  }
});
