# gunicorn.conf.py: gunicorn reads it when started as `gunicorn main:app` in this folder.
# Each worker is a process with its own event loop; all of them accept on one shared socket.
workers = 3
worker_class = "uvicorn.workers.UvicornWorker"  # deprecated since uvicorn 0.30: "uvicorn_worker.UvicornWorker" (package uvicorn-worker, not in this runtime)
bind = "0.0.0.0:8000"  # (the sandbox binds a free loopback port instead)
timeout = 30  # a worker that misses the master's heartbeat this long (its loop blocked) is killed and replaced
preload_app = True  # import main.py once, then fork: workers start at once (main.py opens nothing at import)
loglevel = "warning"  # gunicorn logs less; the sandbox prints which workers started
