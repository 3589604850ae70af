/** What the Python harness records, checked on real runs (DESIGN §6). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Runner } from '../../src/runner/runner.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { peakConcurrency, spansOf, summarize } from '../../src/timeline/summary.ts';
import { python, runToEnd } from './helpers.ts';

let runner: Runner;
before(async () => (runner = await Runner.start()));
after(() => runner.close());

test('a gather of three sleeps shows three overlapping task lanes', async () => {
  const r = await runToEnd(runner, python('import asyncio\n\nasync def nap(s):\n    await asyncio.sleep(s)\n\nasync def main():\n    await asyncio.gather(nap(0.2), nap(0.3), nap(0.4))\n\nasyncio.run(main())\n'));
  const naps = spansOf(buildModel(r.trace), 'task', 'nap');
  assert.deepEqual(naps.map((s) => s.name).sort(), ['nap', 'nap#2', 'nap#3']);
  assert.equal(peakConcurrency(naps), 3);
});

test('to_thread and a process pool get thread and process lanes with real ids', async () => {
  const source = `import asyncio, os, time
from concurrent.futures import ProcessPoolExecutor

def crunch(n):
    return sum(range(n))

async def main():
    await asyncio.gather(asyncio.to_thread(time.sleep, 0.2), asyncio.to_thread(time.sleep, 0.2))
    with ProcessPoolExecutor(max_workers=2) as pool:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(pool, crunch, 3_000_000) for _ in range(2)))
    print("parent", os.getpid())

asyncio.run(main())
`;
  const r = await runToEnd(runner, python(source, { needs: ['threads', 'processes'] }));
  assert.equal(r.exit.reason, null, r.stderr);
  const model = buildModel(r.trace);
  const threads = spansOf(model, 'thread');
  assert.equal(threads.filter((s) => s.name === 'sleep').length, 2);
  assert.equal(peakConcurrency(threads), 2);
  const processes = spansOf(model, 'process');
  assert.equal(processes.length, 2);
  const parent = Number(/parent (\d+)/.exec(r.stdout)![1]);
  assert.ok(processes.every((p) => typeof p.args.pid === 'number' && p.args.pid !== parent && p.name === 'crunch'));
});

test('the endpoint wrapper keeps path, query and body parameters and dependencies working', async () => {
  const source = `from fastapi import Depends, FastAPI
from pydantic import BaseModel

app = FastAPI()

class Item(BaseModel):
    name: str
    qty: int

async def tenant(x_tenant: str = "public"):
    return x_tenant

@app.post("/items/{item_id}")
async def create(item_id: int, item: Item, verbose: bool = False, who: str = Depends(tenant)):
    return {"id": item_id, "name": item.name, "qty": item.qty, "verbose": verbose, "who": who}

@app.get("/sync/{word}")
def shout(word: str, times: int = 1):
    return {"shout": (word.upper() + "!") * times}
`;
  const r = await runToEnd(runner, {
    manifest: {
      id: 'wrapped',
      title: { en: 'w', zh: 'w' },
      language: 'python',
      kind: 'server',
      entry: 'main:app',
      load: [
        { method: 'POST', path: '/items/7?verbose=true', json: { name: 'pen', qty: 3 } },
        { path: '/sync/hey?times=2' },
        { method: 'POST', path: '/items/x', json: { name: 'pen', qty: 3 } },
      ],
    },
    files: { 'main.py': source },
  });
  assert.equal(r.exit.reason, null, r.stderr);
  assert.match(r.stdout, /POST \/items\/7\?verbose=true → 200 .*"id":7,"name":"pen","qty":3,"verbose":true,"who":"public"/);
  assert.match(r.stdout, /GET \/sync\/hey\?times=2 → 200 .*"shout":"HEY!HEY!"/);
  assert.match(r.stdout, /POST \/items\/x → 422/);
  const handlers = spansOf(buildModel(r.trace), 'handler');
  assert.deepEqual(handlers.map((h) => [h.name, h.args.kind]).sort(), [
    ['GET /sync/{word}', 'def'],
    ['POST /items/{item_id}', 'async'],
  ]);
});

test('def endpoints run on distinct worker threads; a blocked async def shows a ≥4 s loop block and serial handlers', async () => {
  const source = `import time
from fastapi import FastAPI

app = FastAPI()

@app.get("/def")
def in_thread():
    time.sleep(0.5)
    return {}

@app.get("/blocking")
async def on_loop():
    time.sleep(1)
    return {}
`;
  const r = await runToEnd(runner, {
    manifest: {
      id: 'threads',
      title: { en: 't', zh: 't' },
      language: 'python',
      kind: 'server',
      entry: 'main:app',
      load: [{ path: '/def', count: 5 }, { path: '/blocking', count: 5, delayMs: 1000 }],
    },
    files: { 'main.py': source },
  });
  assert.equal(r.exit.reason, null, r.stderr);
  const model = buildModel(r.trace);
  const defs = spansOf(model, 'handler', '/def');
  assert.equal(new Set(defs.map((h) => h.args.tid)).size, 5);
  assert.ok(defs.every((h) => h.args.thread !== 'MainThread'));
  const blocking = spansOf(model, 'handler', '/blocking');
  assert.equal(peakConcurrency(blocking), 1);
  assert.ok(blocking.every((h) => h.args.thread === 'MainThread'));
  const summary = summarize(model);
  assert.ok(summary.loopBlockedMs >= 4000, `${summary.loopBlockedMs}`);
  assert.equal(summary.longestBlock?.culprit, 'GET /blocking');
});

test('tasks keep their names: lanes and the loop-blocked culprit name the coroutine or the name given (at creation or set before the first step), never "None"', async () => {
  // CPython 3.13.5 calls task.set_name(None) after a task factory; the harness must not let it.
  const source = `import asyncio, time

async def crunch():
    time.sleep(0.06)

async def main():
    await asyncio.create_task(crunch())
    await asyncio.create_task(crunch(), name="named")
    async with asyncio.TaskGroup() as tg:
        tg.create_task(crunch())
    later = asyncio.create_task(crunch())
    later.set_name("B")  # named after create_task returned, before its first step
    await later
    print(sorted(t.get_name() for t in [asyncio.current_task()]))

asyncio.run(main())
`;
  const r = await runToEnd(runner, python(source));
  assert.equal(r.exit.code, 0, r.stderr);
  const model = buildModel(r.trace);
  const blocks = spansOf(model, 'loop').map((b) => b.name);
  // A name the code gave is the lane's name and does not count as another "crunch".
  assert.deepEqual(blocks, ['crunch', 'named', 'crunch#2', 'B']);
  assert.deepEqual(
    model.lanes.filter((l) => l.kind === 'task').map((l) => l.id),
    ['task main', 'task crunch', 'task named', 'task crunch#2', 'task B'],
  );
  assert.ok(!r.stdout.includes("'None'"), r.stdout);
});

test('needs: ["upstream"] gives Python and Node sandboxes a local fake service with latency on request', async () => {
  const py = await runToEnd(
    runner,
    python(
      'import asyncio, os, time\nimport httpx\n\nasync def main():\n    async with httpx.AsyncClient(base_url=os.environ["UPSTREAM_URL"]) as client:\n        t0 = time.perf_counter()\n        replies = await asyncio.gather(*(client.get(f"/profile/{i}", params={"delay": 300}) for i in range(5)))\n        took = time.perf_counter() - t0\n    print([r.json()["delay_ms"] for r in replies], round(took, 1))\n\nasyncio.run(main())\n',
      { needs: ['upstream'] },
    ),
  );
  assert.equal(py.exit.reason, null, py.stderr);
  const [, delays, took] = /^(\[.*\]) ([\d.]+)$/m.exec(py.stdout)!;
  assert.equal(delays, '[300, 300, 300, 300, 300]');
  // Five 300 ms calls at once: about 0.3 s, far from the 1.5 s they would take one by one.
  assert.ok(Number(took) >= 0.3 && Number(took) < 1.0, `took ${took} s`);
  const js = await runToEnd(runner, {
    manifest: { id: 'up', title: { en: 'u', zh: 'u' }, language: 'node', kind: 'script', entry: 'main.mjs', needs: ['upstream'] },
    files: { 'main.mjs': 'const r = await fetch(`${process.env.UPSTREAM_URL}/x?delay=50&status=503`);\nconsole.log(r.status, (await r.json()).delay_ms);\n' },
  });
  assert.equal(js.exit.reason, null, js.stderr);
  assert.equal(js.stdout, '503 50\n');
});

test('Node: worker_threads get thread lanes, however Worker is imported', async () => {
  const source = `import { Worker } from 'node:worker_threads';
const work = 'let n = 0; for (let i = 0; i < 3e7; i++) n += i;';
await Promise.all([1, 2].map(() => new Promise((resolve) => new Worker(work, { eval: true }).once('exit', resolve))));
console.log('workers done');
`;
  const r = await runToEnd(runner, {
    manifest: { id: 'workers', title: { en: 'w', zh: 'w' }, language: 'node', kind: 'script', entry: 'main.mjs' },
    files: { 'main.mjs': source },
  });
  assert.equal(r.exit.reason, null, r.stderr);
  const threads = spansOf(buildModel(r.trace), 'thread');
  assert.equal(threads.length, 2);
  assert.ok(threads.every((t) => !t.open));
});
