# app.py: the application under test, a FastAPI app whose handler waits on I/O
import asyncio

from fastapi import FastAPI

app = FastAPI()

PRICES = {"tea": 3.5, "coffee": 4.0, "cocoa": 4.5, "juice": 5.0, "water": 1.0}


@app.get("/price/{item}")
async def price(item: str) -> dict:
    await asyncio.sleep(0.2)  # stands in for a database or upstream call
    return {"item": item, "price": PRICES.get(item)}
