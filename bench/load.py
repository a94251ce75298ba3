"""How does skinclinic hold up under many patients at once?

Loads the demo clinic (seed_demo) into a bench database of its own, starts gunicorn with
skinclinic/gunicorn.conf.py on an ephemeral 127.0.0.1 port, and drives it with a bounded
asyncio client: the availability API (one week of free microneedling times, a different week
each request) and the public booking pages, at 16 and then 64 concurrent clients. Prints
requests per second, p50 and p95 latency and errors (5xx, refused connections or an answer
other than the page's usual one) for each. Every phase stops after --requests requests or
--seconds seconds, whichever comes first. Goal: availability p95 under 150 ms at 16 clients on
a 2-core machine, with no errors.

Run: make bench-load   (or: .venv/bin/python -m bench.load [--requests 800] [--seconds 20])
"""

import argparse
import asyncio
import io
import itertools
import os
import random
import time
from datetime import timedelta

from bench._server import Gunicorn, http, server_env
from bench._setup import django_on_bench_database, percentile

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/skinclinic_bench_load"
)
CLIENTS = (16, 64)
PAGES = [
    "/",
    "/treatments/",
    "/treatments/microneedling/",
    "/locations/",
    "/book/",
    "/book/microneedling/",
    "/book/microneedling/buckhead/",
    "/book/microneedling/buckhead/times/",
]


def availability_paths(first_day, weeks: int = 8) -> list[str]:
    paths = []
    for week in range(weeks):
        start = first_day + timedelta(days=7 * week)
        end = start + timedelta(days=6)
        paths.append(
            "/api/v1/availability/?treatment=microneedling&location=buckhead"
            f"&start={start}&end={end}"
        )
    return paths


async def usual_answers(port: int, paths: list[str]) -> dict[str, int]:
    """Each path's answer when the server is idle; paths that fail are left out."""
    answers = {}
    for path in paths:
        status, _ = await http(port, "GET", path)
        if 200 <= status < 400:
            answers[path] = status
        else:
            print(f"  skipping {path}: answered {status}")
    return answers


async def phase(port: int, answers: dict[str, int], clients: int, requests: int, seconds: float):
    """`clients` loops sharing a budget of `requests`, stopping at `seconds`."""
    paths = list(answers)
    random.Random(clients).shuffle(paths)
    queue = itertools.cycle(paths)
    budget = iter(range(requests))
    deadline = time.monotonic() + seconds
    timings, errors = [], []

    async def client():
        for _ in budget:
            if time.monotonic() > deadline:
                return
            path = next(queue)
            began = time.perf_counter()
            status, _ = await http(port, "GET", path)
            timings.append((time.perf_counter() - began) * 1000)
            if status != answers[path]:
                errors.append((path, status))

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return timings, errors, time.perf_counter() - began


def report(label: str, clients: int, timings, errors, elapsed: float) -> None:
    print(
        f"{label:<13} {clients:>3} clients: {len(timings):>5} requests, "
        f"{len(timings) / elapsed:7.1f} req/s, p50 {percentile(timings, 0.5):6.1f} ms, "
        f"p95 {percentile(timings, 0.95):6.1f} ms, errors {len(errors)}"
    )
    for path, status in sorted(set(errors))[:5]:
        print(f"    {status} from {path}")


async def run(port: int, first_day, requests: int, seconds: float, clients_list=CLIENTS) -> None:
    groups = {
        "availability": await usual_answers(port, availability_paths(first_day)),
        "pages": await usual_answers(port, PAGES),
    }
    for clients in clients_list:
        for label, answers in groups.items():
            await phase(port, answers, clients, clients * 4, seconds)  # warm every worker
            report(label, clients, *await phase(port, answers, clients, requests, seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=800, help="per phase (default 800)")
    parser.add_argument("--seconds", type=float, default=20, help="per phase (default 20)")
    parser.add_argument(
        "--clients",
        default=",".join(map(str, CLIENTS)),
        help="concurrent clients per phase, comma-separated (default 16,64)",
    )
    args = parser.parse_args()

    django_on_bench_database()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("seed_demo", stdout=io.StringIO())
    database_url = os.environ["DATABASE_URL"]
    connection.close()

    first_day = (timezone.now() + timedelta(days=2)).date()
    with Gunicorn(server_env(DATABASE_URL=database_url, REDIS_URL="")) as web:
        print(f"gunicorn on 127.0.0.1:{web.port}, {os.cpu_count()} cores, conf default workers")
        clients = [int(n) for n in args.clients.split(",")]
        asyncio.run(run(web.port, first_day, args.requests, args.seconds, clients))


if __name__ == "__main__":
    main()
