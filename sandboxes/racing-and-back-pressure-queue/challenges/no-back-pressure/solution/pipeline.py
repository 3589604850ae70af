# pipeline.py: two fast producers, one slow consumer, and a queue of two between them
import asyncio
import time

START = time.perf_counter()

QUEUE_SIZE = 0  # at most this many items wait in the queue (0 means no limit)
ITEMS_EACH = 4  # items per producer
READ_TIME = 0.05  # seconds a producer needs to read one item
WRITE_TIME = 0.2  # seconds the consumer needs to store one


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


async def producer(name: str, queue: asyncio.Queue, connected: asyncio.Event) -> None:
    await connected.wait()  # nothing to do until the storage is reachable
    for n in range(1, ITEMS_EACH + 1):
        await asyncio.sleep(READ_TIME)  # read the next item from the source
        item = f"{name}-{n}"
        asked = time.perf_counter()
        await queue.put(item)  # while the queue is full, this waits: that is the back pressure
        waited = time.perf_counter() - asked
        if waited > 0.01:
            log(f"{name}: queue full, waited {waited * 1000:3.0f} ms to put {item}")
        else:
            log(f"{name}: put {item}")
    log(f"{name}: done")


async def consumer(queue: asyncio.Queue, connected: asyncio.Event) -> None:
    await asyncio.sleep(0.1)  # open the connection to the storage
    log("storage: connected")
    connected.set()  # wakes every task waiting on the event, all at once
    while True:
        try:
            item = await queue.get()
        except asyncio.QueueShutDown:  # Python 3.13+: shut down and drained
            break
        await asyncio.sleep(WRITE_TIME)  # store it
        log(f"storage: wrote {item}, {queue.qsize()} waiting in the queue")
        queue.task_done()


async def main() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
    connected = asyncio.Event()
    storage = asyncio.create_task(consumer(queue, connected))
    await asyncio.gather(producer("camera", queue, connected), producer("sensor", queue, connected))
    log("main: producers finished, waiting for the queue to drain")
    await queue.join()  # until task_done() was called for every item
    queue.shutdown()  # the consumer's next get() raises QueueShutDown
    await storage
    log("main: all stored")


asyncio.run(main())
