"""gunicorn settings for skinclinic: `gunicorn -c skinclinic/gunicorn.conf.py skinclinic.wsgi`.

Environment variables override: GUNICORN_BIND, WEB_CONCURRENCY (workers), GUNICORN_THREADS,
GUNICORN_TIMEOUT, GUNICORN_ACCESSLOG ("" for none). Workers are synchronous processes,
2 x cores + 1, capped at 12 so a big machine does not open more database connections than
PostgreSQL allows.
"""

import multiprocessing
import os

MAX_WORKERS = 12

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(
    os.environ.get("WEB_CONCURRENCY", min(MAX_WORKERS, 2 * multiprocessing.cpu_count() + 1))
)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# A worker is recycled after this many requests, so a slow leak cannot grow forever.
max_requests = 2000
max_requests_jitter = 200
# The load balancer sets X-Forwarded-Proto; Django reads it (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # "" turns it off
errorlog = "-"
