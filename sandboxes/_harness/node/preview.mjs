// The live-preview bridge (README "Live preview"), run beside a Node server sandbox started
// with `preview`. The runner hands the sandbox a Unix socket that is already listening, as
// file descriptor ASYNCLAB_PREVIEW_FD (socket activation: its path is in the runner's private
// directory, outside the sandbox). This process accepts on it and pipes each connection, byte
// for byte, to the app's loopback port (ASYNCLAB_PORT). A process of its own, like the load
// driver, so the app's event loop sees the reader's requests as it sees any client's.
import net from 'node:net';

const port = Number(process.env.ASYNCLAB_PORT);
// Half-open allowed both ways: a side that has finished sending may still be receiving.
const server = net.createServer({ allowHalfOpen: true }, (client) => {
  const app = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const end = () => {
    client.destroy();
    app.destroy();
  };
  client.on('error', end).on('close', end);
  app.on('error', end).on('close', end);
  client.pipe(app);
  app.pipe(client);
});
server.listen({ fd: Number(process.env.ASYNCLAB_PREVIEW_FD) });
