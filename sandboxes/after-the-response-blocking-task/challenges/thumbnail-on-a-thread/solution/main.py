# main.py: two background thumbnails, one that blocks the event loop and one that doesn't
import time

from fastapi import BackgroundTasks, FastAPI

app = FastAPI()


def resize_image(photo: str) -> None:
    time.sleep(1.0)  # stands in for a blocking call: an image library, a sync HTTP client, a sync DB driver


# Now a plain def as well: BackgroundTasks sends it to a worker thread, and the loop stays free.
def make_thumbnail_async(photo: str) -> None:
    resize_image(photo)


# A plain def: BackgroundTasks sends it to a worker thread, and the loop stays free.
def make_thumbnail_def(photo: str) -> None:
    resize_image(photo)


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/photos-async")
async def upload_photo_async(background_tasks: BackgroundTasks):
    background_tasks.add_task(make_thumbnail_async, "cat.jpg")
    return {"status": "uploaded, thumbnail coming"}


@app.post("/photos-def")
async def upload_photo_def(background_tasks: BackgroundTasks):
    background_tasks.add_task(make_thumbnail_def, "dog.jpg")
    return {"status": "uploaded, thumbnail coming"}
