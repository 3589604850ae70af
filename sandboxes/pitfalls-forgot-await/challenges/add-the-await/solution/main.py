# main.py: fixed. Only users on the block list are refused.
import asyncio

from fastapi import FastAPI, HTTPException

BLOCKED = {"mallory"}

app = FastAPI()


async def is_blocked(user: str) -> bool:
    await asyncio.sleep(0.05)  # stand-in for a lookup in a database or another service
    return user in BLOCKED


@app.get("/posts/{user}")
async def posts(user: str):
    if await is_blocked(user):  # awaited: the lookup runs and its answer is read
        raise HTTPException(status_code=403, detail=f"{user} is blocked")
    return {"user": user, "posts": 3}
