"""gunicorn settings for the API (used by `make run`, systemd and docker-compose).

Environment: GUNICORN_BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (workers, default 2 x cores + 1,
at most 8), GUNICORN_THREADS (default 1), GUNICORN_TIMEOUT (default 30).
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# The app logs each request itself with its request id; gunicorn's access log would double it.
accesslog = None
errorlog = "-"
# Load the app in each worker (not the master) so no DB or Redis connection is shared across forks.
preload_app = False
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
