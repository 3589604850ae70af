# main.py: the same workload (echo.py) on asyncio's loop and on uvloop, taking turns, three rounds.
# Each run is a fresh interpreter: this site's tracing hooks into asyncio's loop (not uvloop's),
# and timing both loops in this process would slow down only one of them.
import asyncio
import sys

ROUNDS = 3
LOOPS = ("asyncio", "uvloop")


async def run_echo(loop_name: str) -> int:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "echo.py", loop_name, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()
    return int(out)


async def main():
    took = {name: [] for name in LOOPS}
    for round_no in range(1, ROUNDS + 1):
        for name in LOOPS:  # alternate, so a busy moment on the machine hits both loops alike
            ms = await asyncio.create_task(run_echo(name), name=f"{name} round {round_no}")
            took[name].append(ms)
            print(f"round {round_no}: {name:8} {ms:5d} ms")
    asyncio_ms, uvloop_ms = sum(took["asyncio"]), sum(took["uvloop"])
    print(f"in total: asyncio {asyncio_ms} ms, uvloop {uvloop_ms} ms")
    print(f"asyncio's loop took {asyncio_ms / uvloop_ms:.1f}x as long as uvloop")


asyncio.run(main())
