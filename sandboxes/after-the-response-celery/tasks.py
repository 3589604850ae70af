# tasks.py: the Celery app and its task; imported by the web app (to send) and by the worker (to run)
import os
import time

from celery import Celery

# The runner gives every run its own Redis user, allowed only keys and channels that start with
# REDIS_PREFIX. REDIS_URL is unix://user:password@/path/to/redis.sock; Celery spells that socket://.
PREFIX = os.environ["REDIS_PREFIX"]
SOCKET_URL = os.environ["REDIS_URL"].replace("unix://", "socket://", 1)

celery_app = Celery(
    "tasks",
    broker="redis+" + SOCKET_URL,  # the queue: a Redis list the worker pops
    backend="redis+" + SOCKET_URL,  # statuses and results: Redis keys
)
celery_app.conf.update(
    result_backend_transport_options={"global_keyprefix": PREFIX},  # results under PREFIX too
    broker_transport_options={
        "global_keyprefix": PREFIX,  # kombu puts PREFIX before every key and channel it uses
        # kombu's bookkeeping of unacknowledged jobs releases a lock with a Lua script, and this
        # Redis user may not run scripts. Without it, jobs a worker has taken off the list live only
        # in its memory and die with it. On a Redis of your own leave it on: it puts such jobs back
        # after the visibility timeout (with acks_late=True, even the one that was running).
        "ack_emulation": False,
    },
    # Remote control (celery inspect, celery control) listens on a channel pattern, and the ACL
    # accepts a pattern only if it is exactly the user's own: off here.
    worker_enable_remote_control=False,
    task_track_started=True,  # the worker records STARTED when it begins a task, not only the outcome
)


@celery_app.task
def render_report(month: str) -> str:
    time.sleep(1.0)  # the slow part: queries, a PDF, an upload (a sync worker may block)
    return f"reports/{month}.pdf"
