/**
 * The adversarial suite: each hostile sandbox is contained, its reason reported, and an
 * ordinary run succeeds right after. Runs real processes under the real isolation.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Runner } from '../../src/runner/runner.ts';
import { hello, node, processesWith, python, runToEnd } from './helpers.ts';

let runner: Runner;
const secret = `asynclab-secret-${process.pid}`;

before(async () => {
  process.env.ASYNCLAB_TEST_SECRET = secret; // must never be visible inside a sandbox
  runner = await Runner.start();
  assert.equal(runner.isolation, 'bwrap', 'these tests need real isolation');
});
after(() => runner.close());

async function expectHealthyAfter(): Promise<void> {
  const next = await runToEnd(runner, hello);
  assert.equal(next.exit.reason, null, 'a normal run right after');
  assert.equal(next.stdout, 'hello again\n');
}

async function contained(name: string, request: ReturnType<typeof python>, code: string, check?: (r: Awaited<ReturnType<typeof runToEnd>>) => void) {
  const result = await runToEnd(runner, request);
  assert.equal(result.exit.reason?.code, code, `${name}: ${JSON.stringify(result.exit)}\n${result.stderr.slice(0, 500)}`);
  assert.ok(result.exit.reason?.message, `${name}: the reason is worded`);
  check?.(result);
  await expectHealthyAfter();
  return result;
}

test('an infinite loop is stopped by the wall-time limit', async () => {
  const r = await contained('loop', python('while True:\n    pass\n', { timeoutMs: 1500 }), 'timeout');
  assert.ok(r.exit.durationMs >= 1400 && r.exit.durationMs < 5000, `${r.exit.durationMs} ms`);
  assert.match(r.exit.reason!.message, /timed out after 1\.5 s/);
});

test('sleeping forever is stopped by the wall-time limit', async () => {
  await contained('sleep', python('import time\ntime.sleep(10_000)\n', { timeoutMs: 1000 }), 'timeout');
});

test('a SIGTERM-ignoring, double-forked daemon does not survive its run', async () => {
  const marker = `daemon-marker-${Date.now()}`;
  const source = `
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(1000)", "${marker}"])
    os._exit(0)
print("parent leaves its daemon behind")
`;
  const result = await runToEnd(runner, python(source, { timeoutMs: 5000 }));
  assert.match(result.stdout, /parent leaves/);
  // When the entry process ends, bwrap's PID 1 ends and the kernel kills its whole PID
  // namespace: the run ends at once, cleanly, and the daemon with it.
  assert.equal(result.exit.code, 0);
  assert.ok(result.exit.durationMs < 4000, `${result.exit.durationMs} ms`);
  assert.deepEqual(processesWith(marker), [], 'no survivor');
  await expectHealthyAfter();
});

test('a Python fork bomb hits the process limit and is ended by its wall time', async () => {
  const source = 'import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)\n';
  // A bomb that retries forever runs into the cap, then into its wall time: the timeout ended it, and says so.
  const r = await contained('python fork bomb', python(source, { timeoutMs: 3000 }), 'timeout');
  assert.match(r.exit.reason!.message, /timed out after 3 s; before that it reached the process limit/);
});

test('a run that forks up to the process cap and then sleeps is reported as timed out, not as process-limit', async () => {
  // Found: the runner ended this run for its wall time, yet the exit said process-limit.
  const source = `import os, time
children = 0
while True:
    try:
        if os.fork() == 0:
            time.sleep(10_000)
            os._exit(0)
        children += 1
    except OSError:
        break
print("capped at", children, flush=True)
time.sleep(10_000)
`;
  const r = await contained('fork to the cap, then sleep', python(source, { timeoutMs: 1500 }), 'timeout');
  assert.match(r.stdout, /capped at \d+/);
  assert.equal(r.exit.reason!.params?.seconds, 1.5);
  assert.equal(r.exit.reason!.params?.alsoHit, 'process-limit');
  assert.match(r.exit.reason!.message, /^timed out after 1\.5 s; before that it reached the process limit \(at most \d+ processes and threads\)$/);
  assert.ok(r.exit.durationMs >= 1400 && r.exit.durationMs < 5000, `${r.exit.durationMs} ms`);
});

test('a Node child_process bomb hits the process limit and is ended by its wall time', async () => {
  const source = `import { spawn } from 'node:child_process';
let failures = 0;
function more() {
  try { spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']).on('error', () => failures++); } catch { failures++; }
  setImmediate(more);
}
more();`;
  const r = await contained('node spawn bomb', node(source, { timeoutMs: 4000 }), 'timeout');
  assert.match(r.exit.reason!.message, /before that it reached the process limit/);
});

test('a Python memory bomb is killed at the memory limit', async () => {
  const source = 'chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n';
  await contained('python memory', python(source, { timeoutMs: 10000 }), 'memory');
});

test('a Node memory bomb is killed at the memory limit', async () => {
  const source = 'const chunks = [];\nwhile (true) chunks.push(Buffer.alloc(16 * 1024 * 1024, 1));\n';
  await contained('node memory', node(source, { timeoutMs: 10000 }), 'memory');
});

test('output floods are cut at the output limit and the runner memory stays flat', async () => {
  const before = process.memoryUsage().rss;
  const floods = {
    stdout: 'import sys\nwhile True:\n    sys.stdout.write("x" * 1000 + "\\n")\n',
    stderr: 'import sys\nwhile True:\n    sys.stderr.write("e" * 1000 + "\\n")\n',
    'no newlines': 'import sys\nwhile True:\n    sys.stdout.write("y" * 65536)\n',
  };
  for (const [name, source] of Object.entries(floods)) {
    const r = await contained(name, python(source, { timeoutMs: 8000 }), 'output-limit');
    const shown = r.stdout.length + r.stderr.length;
    assert.ok(shown <= runner.limits.outputBytes + 200, `${name}: ${shown} bytes delivered`);
    assert.match(r.stdout + r.stderr, /\[output cut at 1024 KiB\]/);
  }
  const grown = process.memoryUsage().rss - before;
  assert.ok(grown < 64 * 1024 * 1024, `runner RSS grew by ${Math.round(grown / 1024 / 1024)} MiB`);
});

test('a flood on the trace channel is cut at the trace limit', async () => {
  const source = 'import os\nline = b\'{"ts":0,"ph":"i","name":"x"}\\n\'\nwhile True:\n    os.write(3, line * 64)\n';
  const r = await contained('trace flood', python(source, { timeoutMs: 8000 }), 'trace-limit');
  assert.ok(r.trace.length <= runner.limits.traceEvents, `${r.trace.length} trace lines`);
});

test('a file bomb hits the file size limit; filling the tmpfs hits the disk limit', async () => {
  await contained('big file', python('with open("big.bin", "wb") as f:\n    while True:\n        f.write(b"z" * 1048576)\n', { timeoutMs: 8000 }), 'file-limit');
  const fill = 'i = 0\nwhile True:\n    with open(f"/tmp/part{i}", "wb") as f:\n        f.write(b"z" * 1048576)\n    i += 1\n';
  await contained('tmpfs fill', python(fill, { timeoutMs: 8000 }), 'disk-limit');
});

test('/ and /dev are read-only and /dev/shm is bounded: no writing past the disk limit', async () => {
  // Found: / and /dev were tmpfs with no size; 427 MiB were written before the memory limit stopped it.
  const probe = (dir: string) => `import errno, os
written = 0
try:
    for i in range(64):
        with open(os.path.join(${JSON.stringify(dir)}, f"part{i}"), "wb") as f:
            f.write(b"z" * 1048576)
        written += 1
    print("wrote", written, "MiB")
except OSError as e:
    print("stopped", errno.errorcode[e.errno], "after", written, "MiB")
`;
  for (const dir of ['/', '/dev']) {
    const r = await runToEnd(runner, python(probe(dir), { timeoutMs: 8000 }));
    assert.equal(r.stdout, 'stopped EROFS after 0 MiB\n', `${dir}: ${r.stdout}${r.stderr.slice(0, 500)}`);
    await expectHealthyAfter();
  }
  const shm = await runToEnd(runner, python(probe('/dev/shm'), { timeoutMs: 8000 }));
  const mib = runner.limits.tmpfsBytes / 1024 / 1024;
  assert.match(shm.stdout, /^stopped ENOSPC after \d+ MiB\n$/, shm.stdout + shm.stderr.slice(0, 500));
  assert.ok(Number(/after (\d+)/.exec(shm.stdout)![1]) <= mib, shm.stdout);
  await expectHealthyAfter();
  // The uncaught version of each ends with its reason.
  const fill = (dir: string) => `i = 0\nwhile True:\n    with open(f"${dir}/part{i}", "wb") as f:\n        f.write(b"z" * 1048576)\n    i += 1\n`;
  await contained('/dev/shm fill', python(fill('/dev/shm'), { timeoutMs: 8000 }), 'disk-limit');
  const rootFill = await runToEnd(runner, python(fill(''), { timeoutMs: 8000 }));
  assert.equal(rootFill.exit.code, 1);
  assert.match(rootFill.stderr, /Read-only file system: '\/part0'/);
  await expectHealthyAfter();
});

test('a file written in one run is gone in the next', async () => {
  const first = await runToEnd(runner, python('open("left.txt", "w").write("x")\nopen("/tmp/left.txt", "w").write("x")\nprint("wrote")\n'));
  assert.equal(first.stdout, 'wrote\n');
  const second = await runToEnd(runner, python('import os\nprint(os.path.exists("left.txt"), os.path.exists("/tmp/left.txt"))\n'));
  assert.equal(second.stdout, 'False False\n');
  await expectHealthyAfter();
});

test('host secrets are out of reach: /etc/shadow, home, project files, /proc/1/environ, the runner env', async () => {
  const project = path.resolve(import.meta.dirname, '..', '..');
  const source = `
import os
def probe(label, fn):
    try:
        value = fn()
        print(label, "READ", repr(value)[:200])
    except Exception as exc:
        print(label, "denied", type(exc).__name__)
probe("shadow", lambda: open("/etc/shadow").read())
probe("home", lambda: os.listdir("/root"))
probe("project", lambda: open(${JSON.stringify(path.join(project, 'package.json'))}).read())
probe("environ1", lambda: open("/proc/1/environ", "rb").read())
print("env", sorted(os.environ))
`;
  const r = await runToEnd(runner, python(source));
  assert.match(r.stdout, /^shadow denied/m);
  assert.match(r.stdout, /^home denied/m);
  assert.match(r.stdout, /^project denied/m);
  assert.match(r.stdout, /^environ1 (denied|READ b'')/m, "bwrap's PID 1 must start with an empty environment");
  assert.ok(!r.stdout.includes(secret), 'the runner environment leaked');
  assert.ok(!r.stdout.includes('ASYNCLAB_TEST_SECRET'));
  await expectHealthyAfter();
});

test('a symlink planted by the sandbox is never followed by the host', async () => {
  const outside = mkdtempSync(path.join(tmpdir(), 'asynclab-canary-'));
  const canary = path.join(outside, 'canary.txt');
  writeFileSync(canary, 'precious');
  const source = `
import os
for where in ["/src/evil", "/work/evil", "/tmp/evil"]:
    try:
        os.symlink(${JSON.stringify(outside)}, where)
        print(where, "planted")
    except OSError as exc:
        print(where, "refused", exc.errno)
`;
  const r = await runToEnd(runner, python(source));
  assert.match(r.stdout, /\/src\/evil refused/, 'sources are read-only inside');
  assert.equal(r.exit.reason, null);
  assert.ok(existsSync(canary) && readFileSync(canary, 'utf8') === 'precious', 'cleanup followed a link');
  await expectHealthyAfter();
});

test('outbound TCP and DNS fail; loopback works', async () => {
  const source = `
import socket
for label, fn in [
    ("tcp", lambda: socket.create_connection(("1.1.1.1", 80), timeout=2)),
    ("dns", lambda: socket.getaddrinfo("example.com", 80)),
]:
    try:
        fn()
        print(label, "CONNECTED")
    except OSError as exc:
        print(label, "failed", type(exc).__name__)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); c = socket.create_connection(s.getsockname()); print("loopback ok")
`;
  const r = await runToEnd(runner, python(source));
  assert.match(r.stdout, /^tcp failed/m);
  assert.match(r.stdout, /^dns failed/m);
  assert.match(r.stdout, /^loopback ok/m);
  await expectHealthyAfter();
});

test('a port bound inside the sandbox is not reachable from the host', async () => {
  const source = 'import socket, time\ns = socket.socket()\ns.bind(("127.0.0.1", 0))\ns.listen()\nprint(s.getsockname()[1], flush=True)\ntime.sleep(3)\n';
  let port = 0;
  let reachable: boolean | undefined;
  let probed!: () => void;
  const probedOnce = new Promise<void>((resolve) => (probed = resolve));
  const run = runToEnd(runner, python(source, { timeoutMs: 5000 }), (event) => {
    if (event.type !== 'stdout' || port) return;
    port = Number(event.data.trim());
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => ((reachable = true), socket.destroy(), probed()));
    socket.once('error', () => ((reachable = false), probed()));
  });
  await probedOnce;
  assert.equal((await run).exit.code, 0, 'the sandbox kept its port to itself and ended normally');
  assert.ok(port > 0);
  assert.equal(reachable, false);
  await expectHealthyAfter();
});

test('no capabilities and not uid 0 inside', async () => {
  const r = await runToEnd(runner, python('import os\nstatus = open("/proc/self/status").read()\ncap = [l for l in status.splitlines() if l.startswith("CapEff")][0].split()[1]\nprint(os.getuid(), os.getgid(), cap)\n'));
  const [uid, gid, cap] = r.stdout.trim().split(' ');
  assert.notEqual(uid, '0');
  assert.notEqual(gid, '0');
  assert.equal(cap, '0000000000000000');
  await expectHealthyAfter();
});

test('source over the size limit and path traversal are refused before anything runs', async () => {
  const big = await runToEnd(runner, python(`# ${'x'.repeat(70 * 1024)}\nprint(1)\n`));
  assert.equal(big.exit.reason?.code, 'bad-request');
  assert.match(big.exit.reason!.message, /source is 71 KiB; the limit is 64 KiB/);
  for (const name of ['../x.py', '/etc/x.py', 'a/../../x.py', 'a\\..\\x.py']) {
    const r = await runToEnd(runner, { manifest: hello.manifest, files: { 'main.py': 'print(1)', [name]: 'x' } });
    assert.equal(r.exit.reason?.code, 'bad-request', name);
    assert.deepEqual(r.events.map((e) => e.type), ['exit'], `${name}: nothing started`);
  }
  const many = Object.fromEntries(Array.from({ length: runner.limits.sourceFiles + 1 }, (_, i) => [`m${i}.py`, '']));
  const tooMany = await runToEnd(runner, { manifest: hello.manifest, files: { ...many, 'main.py': 'print(1)' } });
  assert.equal(tooMany.exit.reason?.code, 'bad-request');
  assert.match(tooMany.exit.reason!.message, /files; at most 32/);
  await expectHealthyAfter();
});

test('no host path in any /proc/<pid>/cmdline or environ inside the sandbox', async () => {
  // Found: /proc/1/cmdline (bwrap's PID 1 keeps bwrap's argv) named the run directory under the work root.
  const source = `import os, sys, subprocess
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
seen = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for name in ("cmdline", "environ"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                data = f.read()
        except OSError:
            continue
        seen += 1
        sys.stdout.write(f"--- {pid} {name}\\n{data.replace(b'\\0', b' ').decode('utf-8', 'replace')}\\n")
print("read", seen, "files")
child.kill()
`;
  const r = await runToEnd(runner, python(source, { timeoutMs: 10_000 }));
  assert.equal(r.exit.reason, null, r.stderr);
  assert.match(r.stdout, /--- 1 cmdline\n/, 'PID 1 was readable');
  assert.ok(Number(/read (\d+) files/.exec(r.stdout)?.[1]) >= 4, r.stdout.slice(-200));
  for (const hostPath of [runner.workRoot, 'asynclab-runner-', process.cwd(), path.dirname(process.execPath)]) {
    assert.ok(!r.stdout.includes(hostPath), `${hostPath} is visible inside:\n${r.stdout.slice(0, 3000)}`);
  }
  await expectHealthyAfter();
});

test('an entry named like an Object.prototype property, with no such file, is refused', async () => {
  // `entry in files` found `constructor`, `toString` and `__proto__` on the prototype and let the run start.
  for (const entry of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    for (const request of [python('print(1)\n', { entry }), node('console.log(1)\n', { entry })]) {
      const r = await runToEnd(runner, request);
      const what = `${request.manifest.language} ${entry}: ${JSON.stringify(r.exit)}`;
      assert.equal(r.exit.reason?.code, 'bad-request', what);
      assert.match(r.exit.reason!.message, new RegExp(`the entry ${entry} is not among the files`), what);
      assert.deepEqual(r.events.map((e) => e.type), ['exit'], `${what}: nothing started`);
    }
  }
  await expectHealthyAfter();
});

test('after all of the above, no run directory and no run cgroup is left behind', async () => {
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(readdirSync(runner.workRoot).filter((n) => n.startsWith('run-') || n.startsWith('preview-')), []);
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes('pids'));
  if (own) {
    const base = path.join('/sys/fs/cgroup/pids', own.split(':')[2]!, 'asynclab', String(process.pid));
    const leftovers = existsSync(base) ? readdirSync(base).filter((n) => n.startsWith('run-')) : [];
    assert.deepEqual(leftovers, []);
  }
});

test('the CPU-time limit stops a busy process with its own reason (limit lowered to 1 s here)', async () => {
  const strict = await Runner.start({ limits: { ...runner.limits, cpuSeconds: 1 } });
  try {
    const r = await runToEnd(strict, python('while True:\n    pass\n', { timeoutMs: 10000 }));
    assert.equal(r.exit.reason?.code, 'cpu', JSON.stringify(r.exit));
    assert.ok(r.exit.signal === 'SIGXCPU' || r.exit.code === 128 + 24, JSON.stringify(r.exit));
    assert.ok(r.exit.durationMs < 5000, `${r.exit.durationMs} ms`);
  } finally {
    await strict.close();
  }
});

test('a CPU limit of 30 % gives a busy run 30 % of one CPU, shared by all its processes', async () => {
  assert.ok(runner.env.cgroups?.cpuLimit, 'this machine offers no writable cpu cgroup controller');
  // Two processes spin for 2 s of wall time each; the run's CPU time over that wall time
  // is what the limit grants. A relative measurement: it holds on a fast or slow machine.
  const source = [
    'import os, time',
    'def spin(seconds):',
    '    end = time.monotonic() + seconds',
    '    while time.monotonic() < end:',
    '        pass',
    'start = time.monotonic()',
    'child = os.fork()',
    'if child == 0:',
    '    spin(2.0)',
    '    os._exit(0)',
    'spin(2.0)',
    'os.waitpid(child, 0)',
    'wall = time.monotonic() - start',
    't = os.times()',
    'cpu = t.user + t.system + t.children_user + t.children_system',
    'print(f"{cpu / wall:.3f}")',
    '',
  ].join('\n');
  const throttled = await Runner.start({ limits: { ...runner.limits, cpuFraction: 0.3 } });
  try {
    const r = await runToEnd(throttled, python(source, { timeoutMs: 15000 }));
    assert.equal(r.exit.reason, null, JSON.stringify(r.exit) + r.stderr);
    const share = Number(r.stdout.trim());
    assert.ok(share > 0.22 && share < 0.38, `the run used ${share} CPUs per wall second under a 0.3 limit`);
  } finally {
    await throttled.close();
  }
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes('cpu'));
  if (own && runner.env.cgroups?.version === 1) {
    const base = path.join('/sys/fs/cgroup/cpu', own.split(':')[2]!, 'asynclab', String(process.pid));
    assert.deepEqual(existsSync(base) ? readdirSync(base).filter((n) => n.startsWith('run-')) : [], [], 'no cpu group left behind');
  }
});

test('a CPU limit is refused rather than ignored where no cpu controller can be written', async () => {
  const env = { ...runner.env, cgroups: runner.env.cgroups && { ...runner.env.cgroups, cpuLimit: false } };
  await assert.rejects(Runner.start({ env, limits: { ...runner.limits, cpuFraction: 0.3 } }), /needs a writable cpu cgroup controller/);
});

test('the open-files limit holds inside the sandbox', async () => {
  const source = 'import os\nfds = []\ntry:\n    while True:\n        fds.append(os.open("/dev/null", os.O_RDONLY))\nexcept OSError as exc:\n    print(len(fds) + 4, exc.errno)\n';
  const r = await runToEnd(runner, python(source));
  const [opened, errno] = r.stdout.trim().split(" ").map(Number);
  assert.equal(r.exit.reason, null, JSON.stringify(r.exit) + r.stderr);
  assert.equal(errno, 24, 'EMFILE');
  assert.ok(opened! <= runner.limits.openFiles + 2, `${opened} descriptors`);
  await expectHealthyAfter();
});
