// The load driver for Node server sandboxes: same load format, same report as the Python
// one (load.py): a separate process, groups start together, one `request` span per request.
import { request as httpRequest } from 'node:http';
import { emit, nowUs } from './trace.mjs';

const EXCERPT = 200;
const steps = JSON.parse(process.env.ASYNCLAB_LOAD || '[]');
const port = Number(process.env.ASYNCLAB_PORT);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function send(step) {
  return new Promise((resolve, reject) => {
    const body = step.json === undefined ? undefined : JSON.stringify(step.json);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: step.method ?? 'GET',
        path: step.path,
        agent: false, // one connection per request: nothing queues in the client
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(step.headers ?? {}) },
        timeout: 60_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function one(number, group, step) {
  const method = step.method ?? 'GET';
  const name = `${method} ${step.path}`;
  const lane = `request ${number}`;
  const started = nowUs();
  emit({ ts: started, ph: 'B', cat: 'request', lane, name, args: { group, path: step.path, method } });
  const args = {};
  let outcome;
  let ok = true;
  try {
    const { status, body } = await send(step);
    Object.assign(args, { status, body: body.slice(0, EXCERPT) });
    outcome = String(status);
  } catch (err) {
    args.error = `${err.name}: ${err.message}`.slice(0, EXCERPT);
    outcome = `failed (${err.name})`;
    ok = false;
  }
  const ended = nowUs();
  emit({ ts: ended, ph: 'E', cat: 'request', lane, name, args });
  const excerpt = String(args.body ?? args.error ?? '').replace(/\n/g, ' ').slice(0, 80);
  console.log(`[load] #${number} ${name} → ${outcome} in ${Math.round((ended - started) / 1000)} ms  ${excerpt}`);
  return ok;
}

async function runGroup(group, step, numbers) {
  await sleep(step.delayMs ?? 0);
  const pending = [];
  for (const [i, number] of numbers.entries()) {
    if (step.everyMs && i) await sleep(step.everyMs);
    pending.push(one(number, group, step));
  }
  return Promise.all(pending);
}

let next = 1;
const numbers = steps.map((step) => {
  const count = step.count ?? 1;
  const list = Array.from({ length: count }, (_, i) => next + i);
  next += count;
  return list;
});
const started = nowUs();
const results = (await Promise.all(steps.map((step, g) => runGroup(g, step, numbers[g])))).flat();
const failed = results.filter((ok) => !ok).length;
console.log(`[load] ${results.length} requests: ${results.length - failed} answered, ${failed} failed, ${((nowUs() - started) / 1e6).toFixed(2)} s in all`);
process.exit(failed ? 1 : 0);
