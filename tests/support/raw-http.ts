/**
 * Raw bytes to a server on a fresh loopback connection, with no client-side normalising:
 * what came back before the server closed it, or after `ms`. The tests of malformed
 * requests need exactly the bytes they send.
 */
import { connect } from 'node:net';

export function rawRequest(port: number, text: string, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(got));
    // Not half-closed: Node's server drops a pending answer when the client ends its side first.
    socket.write(text);
    setTimeout(() => socket.destroy(), ms).unref();
  });
}
