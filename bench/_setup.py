"""Shared set-up for benchmarks: a PostgreSQL database of their own, migrated and empty."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/skinclinic_bench"


def django_on_bench_database() -> None:
    """Point Django at the bench database (BENCH_DATABASE_URL to override), create and
    migrate it. Call before importing any model."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skinclinic.settings")
    sys.path.insert(0, str(ROOT))

    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        dbname="postgres",
        autocommit=True,
    )
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
        # Tuned as docs/operations.md advises for SSD storage (every cloud PostgreSQL): random
        # reads cost about what sequential ones do, so the planner takes the trigram index for
        # patient search instead of scanning the table (5 ms against 60 at 50,000 patients).
        cursor.execute(f'ALTER DATABASE "{config["NAME"]}" SET random_page_cost = 1.1')
    admin.close()

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
