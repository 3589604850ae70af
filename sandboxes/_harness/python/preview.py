"""The live-preview bridge (README "Live preview"), run beside a Python server sandbox
started with `preview`.

The runner hands the sandbox a Unix socket that is already listening, as file
descriptor ASYNCLAB_PREVIEW_FD (socket activation, as systemd does it): its path is in
the runner's private directory, outside the sandbox, so the runner never connects to a
path the sandbox could replace. This process accepts on it and pipes each connection,
byte for byte, to the app's loopback port (ASYNCLAB_PORT) inside the sandbox's network
namespace. It is a process of its own, like the load driver: the app's event loop and its
trace see the reader's requests exactly as they see any other client's.
"""
import asyncio
import os
import socket

CHUNK = 64 * 1024


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # pass a half-close on: the other direction may still be talking
    except OSError:
        pass


async def bridge(port: int, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
    try:
        app_r, app_w = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        client_w.close()
        return
    try:
        await asyncio.gather(pipe(client_r, app_w), pipe(app_r, client_w))
    finally:
        client_w.close()
        app_w.close()


def not_dumpable() -> None:
    """The app runs as the same uid as this process: without this it could open this
    process's /proc/PID/mem (or fd/) and rewrite it, or use the listening socket. Not
    dumpable, those need a capability the sandbox does not have (pidfd_getfd and ptrace are
    refused to it by the seccomp filter, runner/seccomp.ts)."""
    import ctypes

    PR_SET_DUMPABLE = 4
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


async def main() -> None:
    port = int(os.environ["ASYNCLAB_PORT"])
    listener = socket.socket(fileno=int(os.environ["ASYNCLAB_PREVIEW_FD"]))
    server = await asyncio.start_unix_server(lambda r, w: bridge(port, r, w), sock=listener)
    await server.serve_forever()


if __name__ == "__main__":
    not_dumpable()
    asyncio.run(main())
