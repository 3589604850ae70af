// server.mjs: lesson 4's choice on Node. There is no `def` escape hatch here: every
// handler runs on the one event loop, so what keeps the loop free is which API you call.
import { createServer } from 'node:http';
import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { promisify } from 'node:util';

const hashInPool = promisify(pbkdf2);
const ITERATIONS = 1_000_000; // roughly 0.15 s of hashing on an idle core

export default createServer(async (req, res) => {
  if (req.url === '/hash-on-loop') {
    // Like a blocking call inside `async def`: the loop's own thread does the work.
    const key = pbkdf2Sync('hunter2', 'salt', ITERATIONS, 32, 'sha256');
    res.end(`on the loop: ${key.toString('hex').slice(0, 12)}\n`);
  } else if (req.url === '/hash-in-pool') {
    // Like a `def` endpoint in FastAPI: a worker thread (libuv's pool, 4 by default) does it.
    const key = await hashInPool('hunter2', 'salt', ITERATIONS, 32, 'sha256');
    res.end(`in the pool: ${key.toString('hex').slice(0, 12)}\n`);
  } else if (req.url === '/health') {
    res.end('ok\n');
  } else {
    res.statusCode = 404;
    res.end('not found\n');
  }
});
