"""gunicorn settings for skinclinic: `gunicorn -c skinclinic/gunicorn.conf.py skinclinic.wsgi`.

Environment variables override: GUNICORN_BIND, WEB_CONCURRENCY (workers), GUNICORN_THREADS,
GUNICORN_TIMEOUT, GUNICORN_ACCESSLOG ("" for none). Workers are synchronous processes,
cores + 1, capped at 12 so a big machine does not open more database connections than
PostgreSQL allows. Not gunicorn's usual 2 x cores + 1: a request here is mostly Python CPU
(5-9 ms) with a few short queries (about 1.5 ms), so one worker more than the cores keeps them
busy while one waits; more only share the cores. Measured with bench.load on 2 cores
(docs/scaling.md, "Concurrent clients"): 3 workers used 15-20% less CPU per availability request
and about 8% less per page than 5, with 0 errors at 64 clients. Raise WEB_CONCURRENCY where
requests wait longer (a database far away, slow outside services).
"""

import multiprocessing
import os

MAX_WORKERS = 12

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(MAX_WORKERS, multiprocessing.cpu_count() + 1)))
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
