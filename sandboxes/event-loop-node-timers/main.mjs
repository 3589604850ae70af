// main.mjs: two_sleeps.py again, on Node's event loop
const TASKS = 5;
const DELAY_MS = 1000; // how long each task waits

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function polite() {
  await sleep(DELAY_MS); // a timer: this function pauses, the loop runs the others
}

async function rude() {
  const end = performance.now() + DELAY_MS;
  while (performance.now() < end); // busy-wait: no await, so the loop is stuck here
}

async function runBatch(sleeper) {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: TASKS }, () => sleeper()));
  return ((performance.now() - t0) / 1000).toFixed(2);
}

console.log(`${TASKS} x await sleep(${DELAY_MS}): ${await runBatch(polite)} s`);
console.log(`${TASKS} x busy-wait ${DELAY_MS} ms:  ${await runBatch(rude)} s`);
