/**
 * The socket a live-preview run is reached through (README "Live preview"): a Unix socket
 * the runner binds in its own private directory and hands to the sandbox already listening,
 * as an inherited file descriptor (socket activation, as systemd does it). The sandbox's
 * bridge accepts on it and forwards to the app's loopback port; the runner connects to the
 * path. The sandbox never sees the path or any writable host directory, and the runner never
 * connects to a path the sandbox could have replaced (with a symlink to a host socket, say).
 */
import { rename, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';

export interface ActivationSocket {
  /** Where the runner connects (inside its 0700 work root). */
  readonly path: string;
  /** The listening socket's descriptor, to pass to the sandbox (e.g. as stdio[4]). */
  readonly fd: number;
  /** Closes the runner's own copy of the descriptor (after the spawn: the sandbox keeps its copy). */
  closeOwnCopy(): void;
  /** Removes the socket file (the run is over). */
  remove(): Promise<void>;
}

export async function openActivationSocket(socketPath: string): Promise<ActivationSocket> {
  // libuv unlinks the path it bound when its server closes, so bind a temporary name and move
  // the socket to its real name: closing our copy then leaves the real name in place.
  const bound = `${socketPath}.bind`;
  const server: Server = createServer((stray) => stray.destroy()); // nobody connects before the handover
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: bound, backlog: 64 }, () => resolve());
  });
  await rename(bound, socketPath);
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  if (!Number.isInteger(fd) || fd < 0) {
    server.close();
    throw new Error('could not get the descriptor of the preview socket');
  }
  let closed = false;
  const closeOwnCopy = () => {
    if (closed) return;
    closed = true;
    server.close();
  };
  return {
    path: socketPath,
    fd,
    closeOwnCopy,
    async remove() {
      closeOwnCopy();
      await rm(socketPath, { force: true });
    },
  };
}
