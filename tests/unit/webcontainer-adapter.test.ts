/**
 * The WebContainer engine's edges (DESIGN §4): the container itself needs StackBlitz's
 * servers, so here a fake stands in for exactly the surface the engine uses — mounting
 * file trees, spawning node, the terminal output stream, kill and teardown — and the
 * tests check what the engine hands it and what it makes of what comes back. The real
 * container is driven by tests/e2e/online/webcontainer.spec.ts (WEBCONTAINER_E2E=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileSystemTree } from '@webcontainer/api';
import type { EngineEvent } from '../../src/engines/engine.ts';
import { containerEnv, WebContainerEngine, type Container } from '../../src/engines/webcontainer.ts';
import { harnessTree, toFileSystemTree, workTree } from '../../src/engines/webcontainer-files.ts';
import { TerminalOutputSplitter, TRACE_PREFIX } from '../../src/engines/webcontainer-output.ts';
import { sandboxManifest, type SandboxManifest } from '../../src/protocol/manifest.ts';

const manifest = (extra: object = {}): SandboxManifest =>
  sandboxManifest.parse({ id: 'n', title: { en: 'n', zh: 'n' }, language: 'node', kind: 'script', entry: 'main.mjs', ...extra });

test('file tree → mount format: nested folders, contents as given, unsafe names refused', () => {
  assert.deepEqual(toFileSystemTree({ 'main.mjs': 'a', 'lib/util.mjs': 'b', 'lib/deep/x.json': '{}' }), {
    'main.mjs': { file: { contents: 'a' } },
    lib: { directory: { 'util.mjs': { file: { contents: 'b' } }, deep: { directory: { 'x.json': { file: { contents: '{}' } } } } } },
  });
  for (const bad of ['../escape.mjs', '/abs.mjs', 'a/../../b', '.hidden', 'a\\b']) {
    assert.throws(() => toFileSystemTree({ [bad]: '' }), /unsafe file name/, bad);
  }
  assert.throws(() => toFileSystemTree({ lib: 'x', 'lib/a.mjs': 'y' }), /both a file and a folder/);
  assert.deepEqual(Object.keys(workTree({ 'main.mjs': '' })), ['work']);
  const harness = harnessTree({ 'run.mjs': 'r' }, 'u') as { harness: { directory: FileSystemTree } };
  assert.deepEqual(harness.harness.directory, { node: { directory: { 'run.mjs': { file: { contents: 'r' } } } }, 'upstream.mjs': { file: { contents: 'u' } } });
});

test('terminal output → console text and trace lines, across chunk boundaries, CRLF and colours', () => {
  const splitter = new TerminalOutputSplitter();
  const event = '{"ts":1,"ph":"i","lane":"x","name":"y"}';
  const stream = `hello\r\n\x1b[32mgreen\x1b[39m\r\n${TRACE_PREFIX}${event}\r\npartial`;
  // Every split point of the stream must give the same result.
  for (let cut = 0; cut <= stream.length; cut += 1) {
    const s = new TerminalOutputSplitter();
    const got = [...s.push(stream.slice(0, cut)), ...s.push(stream.slice(cut)), ...s.end()];
    const text = got.filter((p) => p.type === 'stdout').map((p) => p.data).join('');
    const trace = got.filter((p) => p.type === 'trace').map((p) => p.data);
    assert.equal(text, 'hello\ngreen\npartial', `cut at ${cut}`);
    assert.deepEqual(trace, [`${event}\n`], `cut at ${cut}`);
  }
  // A line left unfinished by the program, then a trace line from the harness.
  assert.deepEqual([...splitter.push(`no newline${TRACE_PREFIX}${event}\n`), ...splitter.end()], [
    { type: 'stdout', data: 'no newline' },
    { type: 'trace', data: `${event}\n` },
  ]);
  // Text is shown as it comes, not held back until a newline.
  assert.deepEqual(new TerminalOutputSplitter().push('Working'), [{ type: 'stdout', data: 'Working' }]);
});

/** A fake container: records what it is given; each spawned process is driven by the test. */
class FakeContainer implements Container {
  readonly workdir = '/home/asynclab';
  mounts: FileSystemTree[] = [];
  removed: string[] = [];
  spawns: Array<{ command: string; args: string[]; cwd: string; env: Record<string, string> }> = [];
  tornDown = 0;
  killed = 0;
  write!: (chunk: string) => void;
  exit!: (code: number) => void;
  private closeOutput!: () => void;

  async mount(tree: FileSystemTree) {
    this.mounts.push(tree);
  }
  async rm(path: string) {
    this.removed.push(path);
  }
  async spawn(command: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
    this.spawns.push({ command, args, ...options });
    let controller!: ReadableStreamDefaultController<string>;
    const output = new ReadableStream<string>({ start: (c) => void (controller = c) });
    let resolveExit!: (code: number) => void;
    const exit = new Promise<number>((resolve) => (resolveExit = resolve));
    this.write = (chunk) => controller.enqueue(chunk);
    this.closeOutput = () => controller.close();
    let exited = false;
    this.exit = (code) => {
      if (exited) return; // as in the real API, killing an ended process does nothing
      exited = true;
      this.closeOutput();
      resolveExit(code);
    };
    return { output, exit, kill: () => ((this.killed += 1), this.exit(143)) };
  }
  teardown() {
    this.tornDown += 1;
  }
}

function engineWith(container: FakeContainer, boots = { n: 0 }, bootTimeoutMs?: number, hang = false) {
  return new WebContainerEngine({
    unavailable: undefined,
    ...(bootTimeoutMs ? { bootTimeoutMs } : {}),
    api: {
      boot: () => (boots.n++, hang ? new Promise<never>(() => {}) : Promise.resolve(container)),
      harness: async () => ({ node: { 'run.mjs': '// run', 'serve.mjs': '// serve' }, upstream: '// upstream' }),
    },
  });
}

async function collect(events: AsyncIterable<EngineEvent>, onEvent?: (e: EngineEvent) => void): Promise<EngineEvent[]> {
  const all: EngineEvent[] = [];
  for await (const e of events) {
    all.push(e);
    onEvent?.(e);
  }
  return all;
}

test('a run: boots once, mounts the harness once and the files each time, streams output and trace, reports the exit', async () => {
  const container = new FakeContainer();
  const boots = { n: 0 };
  const engine = engineWith(container, boots);
  const m = manifest({ needs: ['upstream'] });
  const first = await collect(engine.run({ 'main.mjs': 'console.log(1)' }, m, new AbortController().signal), (e) => {
    if (e.type === 'status' && e.state === 'running') {
      container.write(`one\r\n${TRACE_PREFIX}{"ts":5,"ph":"i","lane":"main","name":"x"}\r\n`);
      setTimeout(() => container.exit(0), 5);
    }
  });
  assert.deepEqual(
    first.map((e) => e.type === 'status' ? e.state : e.type),
    ['booting', 'starting', 'running', 'stdout', 'trace', 'exit'],
  );
  assert.deepEqual(first[3], { type: 'stdout', data: 'one\n' });
  assert.deepEqual(first[4], { type: 'trace', data: '{"ts":5,"ph":"i","lane":"main","name":"x"}\n' });
  assert.deepEqual({ ...(first[5] as object), durationMs: 0 }, { type: 'exit', code: 0, signal: null, durationMs: 0, reason: null });
  assert.deepEqual(container.spawns[0], {
    command: 'node',
    args: ['../harness/node/run.mjs'],
    cwd: 'work',
    env: containerEnv('/home/asynclab', m),
  });
  assert.equal(container.spawns[0]!.env.ASYNCLAB_TRACE_FD, '-1', 'no fd 3 in a container: trace on stdout');
  assert.equal(container.spawns[0]!.env.ASYNCLAB_NEEDS, 'upstream');

  const second = await collect(engine.run({ 'main.mjs': 'console.log(2)' }, manifest({ kind: 'server', entry: 'server.mjs', load: [{ path: '/' }] }), new AbortController().signal), (e) => {
    if (e.type === 'status' && e.state === 'running') container.exit(3);
  });
  assert.equal(boots.n, 1, 'one container per page');
  assert.ok(!second.some((e) => e.type === 'status' && e.state === 'booting'), 'a warm container does not boot again');
  assert.equal(container.spawns[1]!.args[0], '../harness/node/serve.mjs', 'a server sandbox runs the server harness, load inside');
  assert.deepEqual(container.removed, ['work', 'work'], 'the previous run\'s files are removed first');
  assert.equal(container.mounts.length, 3, 'harness once, then work per run');
  assert.deepEqual(Object.keys(container.mounts[0]!), ['harness']);
  assert.deepEqual(container.mounts[2], { work: { directory: { 'main.mjs': { file: { contents: 'console.log(2)' } } } } });
  assert.equal((second.at(-1) as { code: number }).code, 3);
});

test('Stop and the deadline kill the process and say why; teardown ends the container', async () => {
  const container = new FakeContainer();
  const engine = engineWith(container);
  const stop = new AbortController();
  const stopped = await collect(engine.run({ 'main.mjs': '' }, manifest(), stop.signal), (e) => {
    if (e.type === 'status' && e.state === 'running') stop.abort();
  });
  assert.equal(container.killed, 1);
  assert.deepEqual((stopped.at(-1) as { reason: { code: string } }).reason.code, 'stopped');

  const late = await collect(engine.run({ 'main.mjs': '' }, manifest({ timeoutMs: 1000 }), new AbortController().signal));
  assert.deepEqual((late.at(-1) as { reason: { code: string; params: object } }).reason, {
    code: 'timeout',
    message: 'timed out after 1 s',
    params: { seconds: 1 },
  });

  await engine.dispose();
  assert.equal(container.tornDown, 1);
  await engine.dispose();
  assert.equal(container.tornDown, 1, 'teardown happens once');
});

test('a flood of output is cut at the runner\'s limit', async () => {
  const container = new FakeContainer();
  const engine = engineWith(container);
  const events = await collect(engine.run({ 'main.mjs': '' }, manifest(), new AbortController().signal), (e) => {
    if (e.type === 'status' && e.state === 'running') for (let i = 0; i < 1100; i += 1) container.write(`${'x'.repeat(1023)}\n`);
  });
  const shown = events.filter((e) => e.type === 'stdout').reduce((n, e) => n + (e as { data: string }).data.length, 0);
  assert.ok(shown <= 1024 * 1024, `${shown} bytes shown`);
  assert.equal((events.at(-1) as { reason: { code: string } }).reason.code, 'output-limit');
});

test('offline, the boot gives up with a reason the page can word, and a later Run may try again', async () => {
  const boots = { n: 0 };
  const engine = engineWith(new FakeContainer(), boots, 50, true);
  const events = await collect(engine.run({ 'main.mjs': '' }, manifest(), new AbortController().signal));
  assert.deepEqual(events.map((e) => e.type), ['status', 'error']);
  assert.equal((events[1] as { code: string }).code, 'webcontainer-offline');
  assert.match((events[1] as { message: string }).message, /StackBlitz/);
  await collect(engine.run({ 'main.mjs': '' }, manifest(), new AbortController().signal));
  assert.equal(boots.n, 2);
});
