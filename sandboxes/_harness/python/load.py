"""The load driver: fires a server sandbox's `load` and reports every request.

It runs as its own process with its own event loop, so a server that blocks its
loop cannot slow the clock that measures it. Groups start together; a group
fires all its requests at once, or one every `everyMs` when given. Each request
becomes a `request` span on the trace channel and one line on stdout.
"""
import asyncio
import json
import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from _asynclab_trace import emit, now_us  # noqa: E402

import httpx  # noqa: E402

EXCERPT = 200


async def one(client, number, group, step):
    method = step.get("method", "GET")
    path = step["path"]
    name = f"{method} {path}"
    lane = f"request {number}"
    started = now_us()
    emit({"ts": started, "ph": "B", "cat": "request", "lane": lane, "name": name, "args": {"group": group, "path": path, "method": method}})
    args = {}
    try:
        response = await client.request(method, path, json=step.get("json"), headers=step.get("headers"))
        args["status"] = response.status_code
        args["body"] = response.text[:EXCERPT]
        outcome = f"{response.status_code}"
        ok = True
    except httpx.HTTPError as exc:
        args["error"] = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        outcome = f"failed ({type(exc).__name__})"
        ok = False
    ended = now_us()
    emit({"ts": ended, "ph": "E", "cat": "request", "lane": lane, "name": name, "args": args})
    body = args.get("body", args.get("error", ""))
    body = body.replace("\n", " ")
    print(f"[load] #{number} {name} → {outcome} in {(ended - started) / 1000:.0f} ms  {body[:80]}", flush=True)
    return ok


async def run_group(client, group, step, numbers):
    await asyncio.sleep(step.get("delayMs", 0) / 1000)
    every = step.get("everyMs")
    tasks = []
    for i, number in enumerate(numbers):
        if every and i:
            await asyncio.sleep(every / 1000)
        tasks.append(asyncio.create_task(one(client, number, group, step)))
    return await asyncio.gather(*tasks)


async def main() -> int:
    steps = json.loads(os.environ.get("ASYNCLAB_LOAD") or "[]")
    port = int(os.environ["ASYNCLAB_PORT"])
    # Request numbers follow the manifest: group by group, in order.
    numbers, next_number = [], 1
    for step in steps:
        count = step.get("count", 1)
        numbers.append(list(range(next_number, next_number + count)))
        next_number += count
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    started = now_us()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:
        results = await asyncio.gather(*(run_group(client, g, step, numbers[g]) for g, step in enumerate(steps)))
    flat = [ok for group in results for ok in group]
    failed = flat.count(False)
    print(f"[load] {len(flat)} requests: {len(flat) - failed} answered, {failed} failed, {(now_us() - started) / 1e6:.2f} s in all", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
