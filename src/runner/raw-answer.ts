/**
 * Answers on a raw socket (upgrades, CONNECT, refused WebSockets), then closes it for good.
 * `socket.end()` alone is not enough: the HTTP server's sockets allow half-open connections, so
 * a client that never closes its side would keep the socket — and a file descriptor — forever
 * (issue 15, item 3: 19,800 ignored upgrades held the server at its fd limit). Every socket the
 * server hands to an upgrade or CONNECT listener leaves through here or through a WebSocket.
 */
import type { Duplex } from 'node:stream';

/** How long a client may take to take in the answer before the socket is destroyed anyway. */
const flushMs = 5_000;

export function answerAndClose(socket: Duplex, bytes: string | Buffer): void {
  socket.on('error', () => socket.destroy());
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), flushMs);
  timer.unref();
  socket.end(bytes, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

/** A bodiless HTTP/1.1 answer with that status, closing the connection. */
export function statusOnly(status: number, text: string): string {
  return `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}
