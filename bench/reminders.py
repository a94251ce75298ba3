"""How fast does the outbox drain, and does anything go twice?

Queues 10,000 due messages (half SMS to a file, half email to memory) for 1,000 patients,
then runs 2 dispatcher processes at once (the code a Celery worker runs per sweep) until the
outbox is empty. Prints messages per second, duplicates and lost messages (both must be 0),
and the crash window: the time from the provider accepting a message to our commit.

Run: make bench, or .venv/bin/python -m bench.reminders [--messages 10000] [--workers 2]
(own database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/skinclinic_bench_reminders)
"""

import sys
from pathlib import Path

# bench/ holds scripts named like standard modules (calendar.py): keep it off the import path.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/skinclinic_bench_reminders"
)
_spec = importlib.util.spec_from_file_location("bench_setup", BENCH / "_setup.py")
_setup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_setup)
django_on_bench_database, percentile = _setup.django_on_bench_database, _setup.percentile

PATIENTS = 1000


def seed(messages: int) -> None:
    from booking.models import Location, Patient
    from notifications.models import Notification

    location = Location.objects.create(name="Buckhead", slug="buckhead")
    patients = Patient.objects.bulk_create(
        Patient(
            first_name=f"P{i}",
            last_name="Bench",
            email=f"p{i}@example.com",
            phone=f"+1404555{i:04d}",
            sms_consent=True,
        )
        for i in range(PATIENTS)
    )
    now = datetime.now(UTC)
    Notification.objects.bulk_create(
        (
            Notification(
                key=f"bench:{i}",
                kind=Notification.Kind.WAITLIST_OFFER,
                channel="sms" if i % 2 else "email",
                patient=patients[i % PATIENTS],
                about_start=now + timedelta(days=1),
                context={"location": location.pk},
                due_at=now - timedelta(seconds=i % 600),
            )
            for i in range(messages)
        ),
        batch_size=2000,
    )


def work(sms_file: str, windows_file: str) -> None:
    """One dispatcher process: sweep until nothing is due, recording the crash window."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from notifications import dispatch, sms

    settings.SMS_BACKEND = "notifications.sms.FileSMSBackend"
    settings.SMS_FILE_PATH = sms_file
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    accepted: list[float] = []
    file_send = sms.FileSMSBackend.send

    def timed_send(self, message):
        result = file_send(self, message)
        accepted.append(time.perf_counter())
        return result

    sms.FileSMSBackend.send = timed_send
    deliver = dispatch.deliver
    windows = []

    def timed_deliver(*args, **kwargs):
        accepted.clear()
        results = deliver(*args, **kwargs)  # returns after its chunk's transaction committed
        committed = time.perf_counter()
        windows.extend(committed - at for at in accepted)
        return results

    dispatch.deliver = timed_deliver
    while dispatch.dispatch_due(budget_seconds=600):
        pass
    with open(windows_file, "a") as file:
        file.write("".join(f"{w}\n" for w in windows))
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    django_on_bench_database()
    from django.db import connection

    from notifications.models import Notification

    seed(args.messages)
    connection.close()
    with tempfile.TemporaryDirectory() as tmp:
        sms_file, windows_file = f"{tmp}/sms.log", f"{tmp}/windows.log"
        open(sms_file, "w").close()
        open(windows_file, "w").close()
        context = multiprocessing.get_context("spawn")
        workers = [
            context.Process(target=work, args=(sms_file, windows_file)) for _ in range(args.workers)
        ]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        with open(sms_file) as file:
            sms_sent = Counter(line.split("\t", 1)[0] for line in file if line.strip())
        with open(windows_file) as file:
            windows = [float(line) for line in file if line.strip()]

    statuses = Counter(Notification.objects.values_list("status", flat=True))
    expected_sms = {f"bench:{i}" for i in range(args.messages) if i % 2}
    duplicates = sum(n - 1 for n in sms_sent.values())
    lost = len(expected_sms - set(sms_sent)) + sum(
        n for status, n in statuses.items() if status != "sent"
    )
    print(f"messages: {args.messages} ({len(expected_sms)} SMS to a file, the rest email)")
    print(f"dispatcher processes: {args.workers}")
    print(f"time: {elapsed:.1f} s (incl. process start-up)")
    print(f"throughput: {args.messages / elapsed:.0f} messages/s")
    print(f"statuses: {dict(statuses)}")
    print(f"duplicates: {duplicates}")
    print(f"lost: {lost}")
    if windows:
        print(
            "crash window (provider accepted -> marked sent, committed): "
            f"median {percentile(windows, 0.5) * 1000:.2f} ms, "
            f"p99 {percentile(windows, 0.99) * 1000:.2f} ms, "
            f"max {max(windows) * 1000:.2f} ms over {len(windows)} SMS"
        )


if __name__ == "__main__":
    main()
