/**
 * Issue 16, item 8: a traceback starts with the reader's own code, as `python3 main.py` and
 * `uvicorn main:app` print it, not with /harness/python/run.py and three <frozen runpy> frames.
 * Real runs in the sandbox; the frames below the reader's code (libraries) and chained
 * exceptions stay.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Runner } from '../../src/runner/runner.ts';
import { python, runToEnd } from './helpers.ts';

let runner: Runner;
before(async () => (runner = await Runner.start()));
after(() => runner.close());

/** Each `File "…", line N, in name` of a traceback, in order. */
function frames(stderr: string): Array<{ file: string; line: number; name: string }> {
  return [...stderr.matchAll(/^ {2}File "([^"]+)", line (\d+)(?:, in (.+))?$/gm)].map((m) => ({ file: m[1]!, line: Number(m[2]), name: m[3] ?? '' }));
}

const ours = /\/harness\/|runpy|_asynclab/;

test('a script raising in a nested function: the first frame is the script, with its line numbers', async () => {
  const r = await runToEnd(runner, python('def inner():\n    raise ValueError("boom")\n\n\ndef outer():\n    inner()\n\n\nouter()\n'));
  assert.equal(r.exit.code, 1, r.stderr);
  assert.match(r.stderr, /^Traceback \(most recent call last\):\n/);
  assert.deepEqual(frames(r.stderr), [
    { file: '/work/main.py', line: 9, name: '<module>' },
    { file: '/work/main.py', line: 6, name: 'outer' },
    { file: '/work/main.py', line: 2, name: 'inner' },
  ]);
  assert.doesNotMatch(r.stderr, ours);
  assert.match(r.stderr, /ValueError: boom\n$/);
});

test('library frames below the reader’s code and chained causes are kept', async () => {
  const source = `import asyncio
import json


async def load(text):
    try:
        return json.loads(text)
    except ValueError as error:
        raise RuntimeError("bad settings") from error


asyncio.run(load("{"))
`;
  const r = await runToEnd(runner, python(source));
  assert.equal(r.exit.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, ours);
  const [cause, effect] = r.stderr.split('The above exception was the direct cause of the following exception:');
  assert.ok(effect, r.stderr);
  // The cause: raised inside json, called from line 7 of the script.
  assert.deepEqual(frames(cause!)[0], { file: '/work/main.py', line: 7, name: 'load' });
  assert.ok(frames(cause!).slice(1).every((f) => f.file.startsWith('/usr/lib/python3')), cause);
  assert.match(cause!, /json\.decoder\.JSONDecodeError/);
  // The effect: from the script's asyncio.run on, through asyncio's own frames, to line 9.
  const outer = frames(effect!);
  assert.deepEqual(outer[0], { file: '/work/main.py', line: 12, name: '<module>' });
  assert.ok(outer.some((f) => f.file.includes('/asyncio/')), effect);
  assert.deepEqual(outer.at(-1), { file: '/work/main.py', line: 9, name: 'load' });
  assert.match(effect!, /RuntimeError: bad settings\n$/);
});

test('a syntax error in the script is shown as python3 shows it: the line and a caret, no frames of ours', async () => {
  const r = await runToEnd(runner, python('print("ok")\ndef f(:\n    pass\n'));
  assert.equal(r.exit.code, 1, r.stderr);
  assert.match(r.stderr, /^ {2}File "\/work\/main\.py", line 2\n {4}def f\(:\n {10}\^\nSyntaxError: invalid syntax\n$/);
  assert.doesNotMatch(r.stderr, ours);
});

const server = (source: string) => ({
  manifest: { id: 'tb', title: { en: 'tb', zh: 'tb' }, language: 'python', kind: 'server', entry: 'main:app', load: [{ path: '/boom' }] },
  files: { 'main.py': source },
});

test('a server whose handler raises: uvicorn logs it without our tracing wrapper, ending in the reader’s lines', async () => {
  const source = 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\ndef ratio(n):\n    return 1 / n\n\n\n@app.get("/boom")\nasync def boom():\n    return {"ratio": ratio(0)}\n';
  const r = await runToEnd(runner, server(source));
  assert.match(r.stdout, /GET \/boom → 500/);
  assert.match(r.stderr, /Exception in ASGI application\nTraceback \(most recent call last\):\n/);
  assert.doesNotMatch(r.stderr, ours);
  // uvicorn's and Starlette's frames stay (real uvicorn logs them too); the reader's come last.
  assert.deepEqual(frames(r.stderr).slice(-2), [
    { file: '/work/main.py', line: 12, name: 'boom' },
    { file: '/work/main.py', line: 7, name: 'ratio' },
  ]);
  assert.match(r.stderr, /ZeroDivisionError: division by zero/);
});

test('a server whose app fails to import: the first frame is the reader’s import line', async () => {
  const r = await runToEnd(runner, server('from fastapi import FastAPI\n\nimport no_such_module\n\napp = FastAPI()\n'));
  assert.equal(r.exit.code, 1, r.stderr);
  assert.deepEqual(frames(r.stderr), [{ file: '/work/main.py', line: 3, name: '<module>' }]);
  assert.doesNotMatch(r.stderr, ours);
  assert.match(r.stderr, /ModuleNotFoundError: No module named 'no_such_module'\n$/);
});

test('a gunicorn-served sandbox whose handler raises: the worker’s log has no harness frames either', async () => {
  const r = await runToEnd(runner, {
    manifest: { ...server('').manifest, needs: ['processes'] },
    files: {
      'main.py': 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/boom")\nasync def boom():\n    return {"items": [][3]}\n',
      'gunicorn.conf.py': 'workers = 1\nworker_class = "uvicorn.workers.UvicornWorker"\nloglevel = "warning"\n',
    },
  });
  assert.match(r.stdout, /GET \/boom → 500/);
  assert.match(r.stderr, /IndexError: list index out of range/);
  assert.doesNotMatch(r.stderr, ours);
  assert.deepEqual(frames(r.stderr).at(-1), { file: '/work/main.py', line: 8, name: 'boom' });
});
