# hedge.py: if the first replica is slow, ask a second one; keep the first answer, cancel the other
import asyncio
import time

START = time.perf_counter()

HEDGE_AFTER = 0.15  # seconds: a little above what a normal answer takes
# Seconds each replica takes for each key, set by the sleep below.
# Replica a is having a bad moment on user:2 (a cold cache, a long GC pause, a busy disk).
LATENCY = {
    ("a", "user:1"): 0.08,
    ("b", "user:1"): 0.08,
    ("a", "user:2"): 1.0,
    ("b", "user:2"): 0.2,
}


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


async def ask_replica(replica: str, key: str) -> str:
    log(f"   {key}: asking replica {replica}")
    try:
        await asyncio.sleep(LATENCY[replica, key])  # the network round trip
    except asyncio.CancelledError:
        log(f"   {key}: replica {replica} cancelled, its request dropped")
        raise  # always let a cancellation continue
    return f"{key} from replica {replica}"


async def hedged_get(key: str) -> str:
    first = asyncio.create_task(ask_replica("a", key))
    racers = {first}
    try:
        # Give the first replica a head start; wait() never cancels what it waits for.
        done, _ = await asyncio.wait(racers, timeout=HEDGE_AFTER)
        if not done:
            log(f"   {key}: no answer after {HEDGE_AFTER} s, hedging")
            racers.add(asyncio.create_task(ask_replica("b", key)))
            done, _ = await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
        return done.pop().result()  # re-raises if the winner failed
    finally:
        # The loser, or both if we were cancelled ourselves: cancel() does nothing to a finished task.
        for task in racers:
            task.cancel()
        await asyncio.wait(racers)  # let them finish cancelling before we return


async def lookup(key: str) -> None:
    started = time.perf_counter()
    value = await hedged_get(key)
    log(f"{key} -> {value!r} in {time.perf_counter() - started:.2f} s")


async def main() -> None:
    await asyncio.gather(lookup("user:1"), lookup("user:2"))


asyncio.run(main())
