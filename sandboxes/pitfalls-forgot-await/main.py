# main.py: BROKEN on purpose. Everyone is blocked, and the block list is never read.
import asyncio

from fastapi import FastAPI, HTTPException

BLOCKED = {"mallory"}

app = FastAPI()


async def is_blocked(user: str) -> bool:
    await asyncio.sleep(0.05)  # stand-in for a lookup in a database or another service
    return user in BLOCKED


@app.get("/posts/{user}")
async def posts(user: str):
    if is_blocked(user):  # BUG: no await
        raise HTTPException(status_code=403, detail=f"{user} is blocked")
    return {"user": user, "posts": 3}
