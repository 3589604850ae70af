/**
 * Issue 15 item 6 and the seccomp part of the sandbox: each attack as it was found,
 * reproduced against the real runner, refused with its reason while another reader's run,
 * started alongside, completes normally.
 *   - a sandbox process taking a sibling's descriptors (pidfd_getfd: the preview bridge's
 *     listening socket), attaching to it (ptrace) or reading its memory (process_vm_readv);
 *   - one run's many busy processes taking the CPU from another run;
 *   - one client's connections filling the pool and the queue so everyone else got `busy`;
 *   - thousands of idle WebSockets all accepted; slow or silent HTTP clients holding sockets.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { constants } from 'node:os';
import WebSocket from 'ws';
import { newToken } from '../../src/runner/gate.ts';
import { Runner } from '../../src/runner/runner.ts';
import { mountRunner } from '../../src/runner/ws.ts';
import { defaultLimits, type Limits } from '../../src/runner/limits.ts';
import { describeReason } from '../../src/protocol/reasons.ts';
import type { RunEvent, ServerMessage } from '../../src/protocol/messages.ts';
import { httpServerOptions, maxHttpConnections } from '../../src/server/app.ts';
import { hello, messageInbox, python, runToEnd, type RunResult } from './helpers.ts';
import { startApp, type App } from './http-helpers.ts';

let runner: Runner;

before(async () => {
  runner = await Runner.start();
  assert.equal(runner.isolation, 'bwrap', 'these tests need real isolation');
});
after(() => runner.close());

/** Runs `attack` and an ordinary reader's run side by side; the reader's must end normally. */
async function alongside(attack: Promise<RunResult>, on: Runner = runner): Promise<RunResult> {
  const [result, reader] = await Promise.all([attack, runToEnd(on, hello)]);
  assert.equal(reader.exit.reason, null, `the other reader's run: ${JSON.stringify(reader.exit)}`);
  assert.equal(reader.stdout, 'hello again\n');
  return result;
}

// ---------------------------------------------------------------- seccomp

/** Python, in the sandbox: try each way into process `target` and say how each call ended. */
const intrusions = String.raw`
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
def err(r):
    return "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
def intrude(target):
    out = {}
    pidfd = libc.syscall(434, target, 0)  # pidfd_open: allowed (asyncio's child watcher uses it)
    out["pidfd_open"] = err(pidfd)
    took, errors = [], set()
    for fd in range(0, 32):
        r = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd
        if r >= 0:
            took.append(fd)
        else:
            errors.add(err(r))
    out["pidfd_getfd"] = {"took": took, "errors": sorted(errors)}
    out["ptrace_attach"] = err(libc.ptrace(16, target, None, None))  # PTRACE_ATTACH
    out["ptrace_seize"] = err(libc.ptrace(0x4206, target, None, None))  # PTRACE_SEIZE
    buf = ctypes.create_string_buffer(64)
    local = iovec(ctypes.cast(buf, ctypes.c_void_p), 64)
    remote = iovec(id(out), 64)
    out["process_vm_readv"] = err(libc.process_vm_readv(target, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0))
    out["process_vm_writev"] = err(libc.process_vm_writev(target, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0))
    out["kcmp"] = err(libc.syscall(312, os.getpid(), target, 0, 0, 0))  # KCMP_FILE
    return out
`;

function assertRefused(found: Record<string, unknown>, what: string): void {
  assert.equal(found.pidfd_open, 'ok', `${what}: pidfd_open stays allowed`);
  assert.deepEqual(found.pidfd_getfd, { took: [], errors: ['EPERM'] }, `${what}: no descriptor taken`);
  for (const call of ['ptrace_attach', 'ptrace_seize', 'process_vm_readv', 'process_vm_writev', 'kcmp']) {
    assert.equal(found[call], 'EPERM', `${what}: ${call}`);
  }
}

test('a sandbox process cannot take, attach to or read a sibling process: EPERM from the seccomp filter', async () => {
  const source = `${intrusions}
import signal, time
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
child = os.fork()
if child == 0:
    time.sleep(60)
    os._exit(0)
other_abi = None
if os.uname().machine == "x86_64":
    x32 = os.fork()
    if x32 == 0:
        libc.syscall(0x40000000 | 39)  # getpid through the x32 ABI
        os._exit(0)
    other_abi = os.waitpid(x32, 0)[1]
try:
    print(json.dumps({"seccomp": status["Seccomp"].strip(), "noNewPrivs": status["NoNewPrivs"].strip(),
                      "x32": other_abi, "minusOne": err(libc.syscall(-1)), **intrude(child)}))
finally:
    os.kill(child, signal.SIGKILL)
`;
  const result = await alongside(runToEnd(runner, python(source)));
  assert.equal(result.exit.reason, null, result.stderr);
  const found = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(found.seccomp, '2', 'a seccomp filter is in force');
  assert.equal(found.noNewPrivs, '1');
  assertRefused(found, 'sibling');
  if (process.arch === 'x64') {
    assert.equal(found.x32, constants.signals.SIGSYS, 'a call through the x32 ABI kills the process (wait status = SIGSYS)');
    assert.equal(found.minusOne, 'ENOSYS', 'syscall(-1) is no x32 call: answered as the kernel answers it');
  }
});

test('as found: the app cannot take the live-preview bridge\'s listening socket with pidfd_getfd', async () => {
  const source = `${intrusions}
from fastapi import FastAPI
app = FastAPI()

@app.get("/steal")
def steal():
    bridges = [int(n) for n in os.listdir("/proc") if n.isdigit() and b"preview.py" in open(f"/proc/{n}/cmdline", "rb").read()]
    found = {"bridges": len(bridges), **intrude(bridges[0])}
    try:
        open(f"/proc/{bridges[0]}/mem", "rb").close()
        found["mem"] = "ok"
    except OSError as exc:
        found["mem"] = errno.errorcode[exc.errno]
    print("STOLEN " + json.dumps(found), flush=True)
    return found
`;
  const request = python(source, { kind: 'server', entry: 'main:app', load: [{ path: '/steal' }] });
  // With a live preview, so the bridge runs beside the app (runToEnd has no preview switch).
  const events: RunEvent[] = [];
  const done = new Promise<void>((resolve) => {
    const handle = runner.run({ ...request, preview: true }, (event) => {
      events.push(event);
      if (event.type === 'stdout' && event.data.includes('STOLEN')) handle.stop();
      if (event.type === 'exit') resolve();
    });
  });
  const [, reader] = await Promise.all([done, runToEnd(runner, hello)]);
  assert.equal(reader.exit.reason, null);
  const stdout = events.flatMap((e) => (e.type === 'stdout' ? [e.data] : [])).join('');
  const line = stdout.split('\n').find((l) => l.startsWith('STOLEN '));
  assert.ok(line, `the app reported: ${stdout.slice(0, 500)} ${JSON.stringify(events.at(-1))}`);
  const found = JSON.parse(line.slice('STOLEN '.length)) as Record<string, unknown>;
  assert.equal(found.bridges, 1, 'the bridge is there to be attacked');
  assertRefused(found, 'bridge');
  assert.equal(found.mem, 'EACCES', "the bridge's memory cannot be opened through /proc either (it is not dumpable)");
});

// ---------------------------------------------------------------- CPU

/**
 * Python: `procs` busy processes, each in a session of its own (under autogroup scheduling,
 * a scheduling group of its own: how a run would claim more than its share without the
 * runner's cpu groups), spinning for `seconds`; the parent samples the CPU time of every
 * process of the run (/proc is the run's own PID namespace) with the monotonic clock, which
 * all runs share, and prints the samples.
 */
function burner(procs: number, seconds: number) {
  return python(`
import json, os, time
tick = os.sysconf("SC_CLK_TCK")
def used():
    total = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError):
                pass
    return total / tick
kids = []
for _ in range(${procs}):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        end = time.monotonic() + ${seconds}
        while time.monotonic() < end:
            pass
        os._exit(0)
    kids.append(pid)
samples = []
while len(samples) < 2000:
    samples.append((time.monotonic(), used()))
    if os.waitpid(-1, os.WNOHANG) != (0, 0):
        break
    time.sleep(0.1)
for kid in kids:
    try:
        os.waitpid(kid, 0)
    except ChildProcessError:
        pass
print(json.dumps(samples))
`, { timeoutMs: 20_000 });
}

type Samples = Array<[number, number]>;

/** CPU seconds used by time `t`, interpolated between samples. */
function usedAt(samples: Samples, t: number): number {
  for (let i = 1; i < samples.length; i++) {
    const [t0, c0] = samples[i - 1]!;
    const [t1, c1] = samples[i]!;
    if (t <= t1) return c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
  }
  return samples.at(-1)![1];
}

test('three busy processes in one run take no more CPU than one busy process in another run started alongside', async () => {
  assert.ok(runner.env.cgroups?.cpuTotal, 'this machine offers no writable cpu cgroup controller');
  let second: Promise<RunResult> | undefined;
  const first = await runToEnd(runner, burner(3, 5), (event) => {
    // Started a moment after the first, so both are busy over the whole of the second's window.
    if (event.type === 'started') second ??= new Promise((resolve) => setTimeout(resolve, 700)).then(() => runToEnd(runner, burner(1, 2.5)));
  });
  const other = await second!;
  assert.equal(first.exit.reason, null, first.stderr);
  assert.equal(other.exit.reason, null, other.stderr);
  const a = JSON.parse(first.stdout) as Samples;
  const b = JSON.parse(other.stdout) as Samples;
  const from = Math.max(a[0]![0], b[0]![0]) + 0.2;
  const to = Math.min(a.at(-1)![0], b.at(-1)![0]) - 0.1;
  assert.ok(to - from > 1.5, `the runs overlapped for ${(to - from).toFixed(2)} s`);
  const shareA = (usedAt(a, to) - usedAt(a, from)) / (to - from);
  const shareB = (usedAt(b, to) - usedAt(b, from)) / (to - from);
  console.log(`cpu: 3 busy processes got ${shareA.toFixed(2)} CPUs, 1 busy process in another run ${shareB.toFixed(2)} (ratio ${(shareA / shareB).toFixed(2)})`);
  // Per process the scheduler gives 3 : 1 (four busy processes, each an equal slice of the
  // cap). Per run it gives about 1 : 1, but not exactly: group weights are split per CPU, so
  // on two cores the lone process shares its core with part of the other run while that run
  // has the second core to itself; 1 : 1 up to 2 : 1, by where the balancer put the
  // processes (measured 1.04–1.07 mostly, 1.52 once in CI). Between that and 3 : 1.
  assert.ok(shareA / shareB < 2.2, `the three-process run took ${(shareA / shareB).toFixed(2)}× the other's CPU`);
});

test('all runs together stay under the runner\'s CPU cap (CPUs − 0.25), leaving the server some CPU', async () => {
  const total = runner.env.cgroups?.cpuTotal;
  assert.ok(total, 'this machine offers no writable cpu cgroup controller');
  const result = await runToEnd(runner, burner(4, 3));
  assert.equal(result.exit.reason, null, result.stderr);
  const samples = JSON.parse(result.stdout) as Samples;
  const from = samples[0]![0] + 0.3;
  const to = samples.at(-1)![0] - 0.1;
  const share = (usedAt(samples, to) - usedAt(samples, from)) / (to - from);
  console.log(`cpu: 4 busy processes in one run got ${share.toFixed(2)} CPUs (cap ${total})`);
  // On a busy machine it gets less; it never gets more than the cap (plus sampling slack).
  assert.ok(share <= total + 0.1, `${share.toFixed(2)} CPUs under a cap of ${total}`);
});

test('a CPU fraction (the slow-machine simulation) still works inside the runner\'s cpu group', async () => {
  const slow = await Runner.start({ limits: { ...runner.limits, cpuFraction: 0.3 } });
  try {
    const result = await runToEnd(slow, burner(2, 2));
    assert.equal(result.exit.reason, null, result.stderr);
    const samples = JSON.parse(result.stdout) as Samples;
    const from = samples[0]![0] + 0.3;
    const to = samples.at(-1)![0] - 0.1;
    const share = (usedAt(samples, to) - usedAt(samples, from)) / (to - from);
    assert.ok(share > 0.2 && share < 0.4, `${share.toFixed(2)} CPUs under a 0.3 limit`);
  } finally {
    await slow.close();
  }
});

// ---------------------------------------------------------------- queue and connections

async function startStack(limits: Partial<Limits> = {}): Promise<App> {
  return startApp({ ...defaultLimits, ...limits });
}

async function openPage(app: App) {
  const ws = new WebSocket(`ws://${app.host}/__runner?token=${app.token}`, { origin: `http://${app.host}` });
  const { inbox, next } = messageInbox(ws, 60_000);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, inbox, next };
}

test('as found: one client with many connections × 8 runs no longer locks everyone else out; the reader is served in its turn', async () => {
  // As found: concurrency 4, queue 32; one client's 5 connections × 8 runs left every other reader `busy`.
  // Here ten connections, enough to fill the queue many times over at the old limits.
  const app = await startStack({ concurrency: 4, queue: 32 });
  try {
    const hogs = await Promise.all(Array.from({ length: 10 }, () => openPage(app)));
    const slow = python('import time\ntime.sleep(1.5)\n');
    hogs.forEach((hog, c) => {
      for (let r = 0; r < 8; r++) hog.ws.send(JSON.stringify({ type: 'run', runId: `h${c}r${r}`, ...slow }));
    });
    // Each connection: its runs start, or wait while it has fewer than 4 waiting; the rest are refused, saying why.
    const firsts = await Promise.all(hogs.map(async (hog, c) => {
      const answers: ServerMessage[] = [];
      for (let r = 0; r < 8; r++) {
        answers.push(await hog.next((m) => 'runId' in m && m.runId === `h${c}r${r}` && (m.type === 'queued' || m.type === 'started' || m.type === 'exit')));
      }
      return answers;
    }));
    for (const answers of firsts) {
      assert.ok(answers.filter((m) => m.type === 'queued').length <= 4, 'at most 4 waiting per connection');
      for (const m of answers) if (m.type === 'exit') assert.ok(m.reason?.code === 'queue-limit' || m.reason?.code === 'busy', JSON.stringify(m));
    }
    const queueLimit = firsts.flat().filter((m) => m.type === 'exit' && m.reason?.code === 'queue-limit');
    assert.ok(queueLimit.length > 0, 'some runs were refused with queue-limit');
    const first = queueLimit[0]!;
    assert.ok(first.type === 'exit' && first.reason);
    assert.match(first.reason.message, /already has 4 runs waiting/);
    assert.match(describeReason(first.reason, 'zh'), /4 个运行在排队/);

    const reader = await openPage(app);
    const started = Date.now();
    reader.ws.send(JSON.stringify({ type: 'run', runId: 'reader', ...hello }));
    const queued = await reader.next((m) => 'runId' in m && m.runId === 'reader' && (m.type === 'queued' || m.type === 'exit'));
    assert.equal(queued.type, 'queued', `the reader's run is taken, not refused: ${JSON.stringify(queued)}`);
    // Round-robin: behind at most one waiting run of each other connection, not behind their 40.
    assert.ok(queued.type === 'queued' && queued.position <= 11, `position ${queued.type === 'queued' ? queued.position : '?'}`);
    const exit = await reader.next((m) => 'runId' in m && m.runId === 'reader' && m.type === 'exit');
    assert.ok(exit.type === 'exit');
    assert.equal(exit.reason, null, JSON.stringify(exit));
    const waitedMs = Date.now() - started;
    const refusedBusy = firsts.flat().filter((m) => m.type === 'exit' && m.reason?.code === 'busy').length;
    console.log(`queue: of 80 runs from 10 connections, ${queueLimit.length} refused with queue-limit and ${refusedBusy} as busy; the reader was queued at position ${queued.type === 'queued' ? queued.position : '?'} and done in ${waitedMs} ms`);
    for (const hog of hogs) hog.ws.terminate();
    reader.ws.close();
  } finally {
    await app.stop();
  }
});

test(`as found: 3,000 idle WebSockets were all accepted; now at most ${defaultLimits.connections} are open, the rest answered 503`, async () => {
  const app = await startStack();
  try {
    const reader = await openPage(app);
    const idle = await Promise.all(Array.from({ length: defaultLimits.connections - 1 }, () => openPage(app)));
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://${app.host}/__runner?token=${app.token}`, { origin: `http://${app.host}` });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    assert.equal(refused, 503, 'one more connection is refused');
    // The reader's connection, open before the flood, still runs.
    reader.ws.send(JSON.stringify({ type: 'run', runId: 'reader', ...hello }));
    const exit = await reader.next((m) => 'runId' in m && m.runId === 'reader' && m.type === 'exit');
    assert.ok(exit.type === 'exit' && exit.reason === null, JSON.stringify(exit));
    // A slot freed is a slot taken again.
    idle.pop()!.ws.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await openPage(app);
    again.ws.close();
    for (const page of idle) page.ws.terminate();
    reader.ws.close();
  } finally {
    await app.stop();
  }
});

// ---------------------------------------------------------------- HTTP server

function watchClose(socket: Socket): Promise<{ afterMs: number; text: string }> {
  const started = Date.now();
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.on('close', () => resolve({ afterMs: Date.now() - started, text })));
}

test('slow-loris clients are cut off: silent, dripping headers, dripping a body; a reader\'s run completes meanwhile', async () => {
  const app = await startStack();
  try {
    const silent = connect(app.port, '127.0.0.1');
    const dripping = connect(app.port, '127.0.0.1');
    const body = connect(app.port, '127.0.0.1');
    const closes = [silent, dripping, body].map(watchClose);
    dripping.write(`GET / HTTP/1.1\r\nHost: ${app.host}\r\n`);
    body.write(`POST / HTTP/1.1\r\nHost: ${app.host}\r\nContent-Length: 100000\r\n\r\n`);
    const drip = setInterval(() => {
      if (dripping.writable) dripping.write('X-Slow: 1\r\n');
      if (body.writable) body.write('x');
    }, 500);
    const reader = await openPage(app);
    reader.ws.send(JSON.stringify({ type: 'run', runId: 'reader', ...hello }));
    const exit = await reader.next((m) => 'runId' in m && m.runId === 'reader' && m.type === 'exit');
    assert.ok(exit.type === 'exit' && exit.reason === null, JSON.stringify(exit));
    const [s, d, b] = await Promise.all(closes);
    clearInterval(drip);
    const slack = httpServerOptions.connectionsCheckingInterval + 1_500;
    assert.ok(s!.afterMs <= httpServerOptions.headersTimeout + slack, `silent: closed after ${s!.afterMs} ms`);
    assert.ok(d!.afterMs <= httpServerOptions.headersTimeout + slack, `dripping headers: closed after ${d!.afterMs} ms`);
    assert.match(d!.text, /^HTTP\/1\.1 408/);
    assert.ok(b!.afterMs <= httpServerOptions.requestTimeout + slack, `dripping body: closed after ${b!.afterMs} ms`);
    console.log(`http: silent closed after ${s!.afterMs} ms, dripping headers after ${d!.afterMs} ms, dripping body after ${b!.afterMs} ms`);
    reader.ws.close();
  } finally {
    await app.stop();
  }
});

test(`no more than ${maxHttpConnections} sockets are held open at once; the server serves again once they go`, async () => {
  const app = await startStack();
  try {
    const sockets = Array.from({ length: maxHttpConnections + 20 }, () => connect(app.port, '127.0.0.1'));
    const closed = sockets.map(watchClose);
    let dropped = 0;
    for (const c of closed) void c.then(() => (dropped += 1));
    const deadline = Date.now() + 5_000;
    while (dropped < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(dropped >= 20, `${dropped} of the extra connections were closed at once`);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answer = await fetch(`http://${app.host}/`);
    assert.equal(answer.status, 200);
  } finally {
    await app.stop();
  }
});

test('a connection that stops answering pings is dropped, and its run with it; one that answers stays', async () => {
  const server = createServer();
  const token = newToken();
  const mounted = mountRunner(server, { runner, token, log: () => undefined, heartbeatMs: 300 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const open = (autoPong: boolean) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/__runner?token=${token}`, { origin: `http://127.0.0.1:${port}`, autoPong });
    const inbox = messageInbox(ws, 20_000);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    return new Promise<{ ws: WebSocket; closed: Promise<number> } & typeof inbox>((resolve, reject) => ws.once('open', () => resolve({ ws, closed, ...inbox })).once('error', reject));
  };
  try {
    // A client gone without a word (its machine asleep, its network gone) answers nothing.
    const vanished = await open(false);
    const present = await open(true);
    vanished.ws.send(JSON.stringify({ type: 'run', runId: 'stuck', ...python('import time\ntime.sleep(30)\n') }));
    await vanished.next((m) => m.type === 'started');
    const code = await Promise.race([vanished.closed, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5_000))]);
    assert.equal(code, 1006, 'dropped without a closing handshake');
    const deadline = Date.now() + 5_000;
    while (runner.stats.running > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(runner.stats.running, 0, "the vanished client's run was stopped");
    present.ws.send(JSON.stringify({ type: 'run', runId: 'reader', ...hello }));
    const exit = await present.next((m) => m.type === 'exit');
    assert.ok(exit.type === 'exit' && exit.reason === null, JSON.stringify(exit));
    assert.equal(present.ws.readyState, WebSocket.OPEN);
    present.ws.close();
  } finally {
    await mounted.close();
    server.close();
  }
});
