import { createServer } from 'node:http';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function busyWait(ms) {
  // Burns the CPU without yielding: Node's single event loop can do nothing else.
  const end = Date.now() + ms;
  while (Date.now() < end);
}

export default createServer(async (req, res) => {
  if (req.url === '/wait') {
    await sleep(500); // a timer: the loop serves other requests meanwhile
    res.end('waited 500 ms\n');
  } else if (req.url === '/block') {
    busyWait(500);
    res.end('blocked 500 ms\n');
  } else {
    res.statusCode = 404;
    res.end('not found\n');
  }
});
