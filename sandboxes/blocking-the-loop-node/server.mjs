// server.mjs: the same bug on Node's event loop, with password hashing as the slow step
import { createServer } from 'node:http';
import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
const ITERATIONS = 3_000_000; // about 0.4 s of hashing on an idle core of our machine

export default createServer(async (req, res) => {
  if (req.url === '/health') {
    res.end('ok\n');
  } else if (req.url === '/login-sync') {
    // Sync API: the hash is computed right here, on the event loop's thread.
    const key = pbkdf2Sync('hunter2', 'salt', ITERATIONS, 32, 'sha256');
    res.end(`sync hash ${key.toString('hex').slice(0, 12)}\n`);
  } else if (req.url === '/login-async') {
    // Async API: libuv's thread pool computes the hash; the loop serves others meanwhile.
    const key = await pbkdf2Async('hunter2', 'salt', ITERATIONS, 32, 'sha256');
    res.end(`async hash ${key.toString('hex').slice(0, 12)}\n`);
  } else {
    res.statusCode = 404;
    res.end('not found\n');
  }
});
