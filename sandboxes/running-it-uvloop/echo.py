# echo.py: one event loop's workout, the kind of work a server's loop does all day.
# 20 clients each send 500 short lines to a server on 127.0.0.1 and wait for every echo:
# socket reads and writes, callbacks, and tasks waking up, with almost no work in between.
# Run as `python3 echo.py asyncio` or `python3 echo.py uvloop`; prints the milliseconds it took.
import asyncio
import sys
import time

CLIENTS = 20
LINES = 500


async def serve_one(reader, writer):
    while line := await reader.readline():
        writer.write(line)
    writer.close()


async def client(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for n in range(LINES):
        writer.write(b"ping %d\n" % n)
        await reader.readline()
    writer.close()
    await writer.wait_closed()


async def workout():
    server = await asyncio.start_server(serve_one, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        await asyncio.gather(*(client(port) for _ in range(CLIENTS)))


def main(loop_name):
    started = time.perf_counter()
    if loop_name == "uvloop":
        import uvloop

        uvloop.run(workout())  # the same code, on uvloop's loop (libuv, written in Cython)
    else:
        asyncio.run(workout())  # asyncio's own loop (selectors, mostly Python)
    print(f"{(time.perf_counter() - started) * 1000:.0f}")


if __name__ == "__main__":
    main(sys.argv[1])
