// server.mjs: the price fan-out again, on Node. Global fetch shares one connection pool
// (undici's global agent) across the whole process and keeps connections alive.
import { createServer } from 'node:http';

const UPSTREAM_URL = process.env.UPSTREAM_URL; // the fake price service the harness started

// Five products, and how many ms the price service takes to answer for each.
const PRODUCTS = { kettle: 150, teapot: 250, mugs: 200, tray: 300, spoons: 100 };

async function fetchPrice(product, delayMs, t0, style) {
  const sent = (performance.now() - t0) / 1000;
  const response = await fetch(`${UPSTREAM_URL}/prices/${product}?delay=${delayMs}`);
  if (!response.ok) throw new Error(`price service answered ${response.status}`);
  const price = await response.json();
  const answered = (performance.now() - t0) / 1000;
  console.log(`[${style.padEnd(3)}] ${product.padEnd(7)} sent ${sent.toFixed(2)} s   answered ${answered.toFixed(2)} s`);
  return price;
}

async function pricesLoop(t0) {
  // A promise is already running: start all five, then await them one by one.
  const pending = Object.entries(PRODUCTS).map(([product, delayMs]) => fetchPrice(product, delayMs, t0, 'for'));
  const prices = [];
  for (const promise of pending) {
    prices.push(await promise);
  }
  return prices;
}

async function pricesAll(t0) {
  // Every fetch starts now; Promise.all settles when the slowest has answered.
  return Promise.all(Object.entries(PRODUCTS).map(([product, delayMs]) => fetchPrice(product, delayMs, t0, 'all')));
}

export default createServer(async (req, res) => {
  const t0 = performance.now();
  let prices;
  if (req.url === '/prices/loop') prices = await pricesLoop(t0);
  else if (req.url === '/prices/all') prices = await pricesAll(t0);
  else {
    res.statusCode = 404;
    return res.end('not found\n');
  }
  const seconds = ((performance.now() - t0) / 1000).toFixed(2);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url, prices: prices.length, seconds: Number(seconds) }));
});
