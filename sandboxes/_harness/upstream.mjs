// The fake upstream service for sandboxes with `needs: ["upstream"]`: lessons about calling
// other services run offline against it. Any path answers JSON after `?delay=<ms>`
// (default 100 ms); `?status=<code>` sets the status. It listens on an ephemeral loopback
// port inside the sandbox and prints `UPSTREAM_URL=http://127.0.0.1:<port>` once ready.
import { createServer } from 'node:http';

let served = 0;
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const delay = Math.min(Math.max(Number(url.searchParams.get('delay') ?? 100) || 0, 0), 30_000);
  const status = Number(url.searchParams.get('status') ?? 200) || 200;
  served += 1;
  const number = served;
  setTimeout(() => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: url.pathname, delay_ms: delay, request: number }));
  }, delay);
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`UPSTREAM_URL=http://127.0.0.1:${server.address().port}\n`);
});
