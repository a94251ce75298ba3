"""`.env.example` lists every environment variable the code reads, so a deployer who copies
it has seen them all."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Code that runs in production (tests and benchmarks read their own variables).
SOURCES = ["skinclinic", "booking", "treatments", "notifications", "charts", "accounts", "desk",
           "portal", "api"]  # fmt: skip
READ = re.compile(
    r"""(?:os\.environ(?:\.get)?[\(\[]|env_[a-z_]+\(|environ\.get\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def variables_read() -> set[str]:
    names = set()
    for source in SOURCES:
        for path in (ROOT / source).rglob("*.py"):
            names |= set(READ.findall(path.read_text()))
    return names


def variables_listed() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.M))


def test_every_variable_the_code_reads_is_in_env_example():
    read = variables_read()

    assert {"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "GUNICORN_BIND"} <= read  # it finds them
    assert read - variables_listed() == set()


def test_env_example_lists_nothing_the_code_does_not_read():
    assert variables_listed() - variables_read() - {"SENTRY_DSN"} == set()
