"""Real Celery workers and beat against the real Redis and PostgreSQL: every due message is
sent exactly once and none is lost, with two workers, a worker killed mid-batch, a task
delivered twice, and a crash after the provider accepted a message."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from notifications.models import Notification
from skinclinic.celery import app
from tests import factories

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL") or connection.vendor != "postgresql",
        reason="needs REDIS_URL and PostgreSQL",
    ),
]


class Cluster:
    """Celery worker and beat subprocesses on a queue of their own, writing SMS to a file."""

    def __init__(self, tmp_path: Path, **env):
        self.queue = f"test-reminders-{uuid.uuid4().hex[:8]}"
        self.sms_file = tmp_path / "sms.log"
        self.sms_file.touch()
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_QUEUE": self.queue,
            "SMS_BACKEND": "notifications.sms.FileSMSBackend",
            "SMS_FILE_PATH": str(self.sms_file),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "REMINDERS_BUDGET_SECONDS": "20",
            **env,
        }
        self.processes: list[subprocess.Popen] = []
        self.tmp_path = tmp_path

    def _start(self, *args) -> subprocess.Popen:
        log = open(self.tmp_path / f"celery-{len(self.processes)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "skinclinic", *args, "--loglevel=INFO"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so SIGKILL reaches the children
        )
        self.processes.append(process)
        return process

    def worker(self, concurrency: int = 2) -> subprocess.Popen:
        process = self._start(
            "worker",
            "--pool=prefork",
            f"-c{concurrency}",
            "-Q",
            self.queue,
            "-n",
            f"w{len(self.processes)}-{self.queue}@%h",
            "--without-gossip",
            "--without-mingle",
        )
        self.wait_ready(process)
        return process

    def beat(self) -> subprocess.Popen:
        return self._start("beat", "-s", str(self.tmp_path / "beat-schedule"))

    def wait_ready(self, process: subprocess.Popen, timeout: float = 30) -> None:
        log = self.tmp_path / f"celery-{self.processes.index(process)}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in log.read_text():
                return
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.1)
        raise AssertionError(f"worker not ready: {log.read_text()[-3000:]}")

    def dispatch(self) -> None:
        app.send_task("notifications.tasks.dispatch_due_messages", queue=self.queue)

    def kill(self, process: subprocess.Popen) -> None:
        with_group = os.getpgid(process.pid)
        os.killpg(with_group, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(os.getpgid(process.pid), signal.SIGKILL)
                process.wait(timeout=10)

    def deliveries(self) -> Counter:
        lines = self.sms_file.read_text().splitlines()
        return Counter(line.split("\t", 1)[0] for line in lines if line)

    def wait_for(self, count: int, timeout: float = 60, poke=None) -> Counter:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            delivered = self.deliveries()
            if (
                len(delivered) >= count
                and not Notification.objects.exclude(status=Notification.Status.SENT).exists()
            ):
                return delivered
            if poke:
                poke()
            time.sleep(0.5)
        return self.deliveries()


@pytest.fixture
def cluster(tmp_path, transactional_db):
    clusters = []

    def make(**env):
        directory = tmp_path / str(len(clusters))
        directory.mkdir()
        clusters.append(Cluster(directory, **env))
        return clusters[-1]

    yield make
    for made in clusters:
        made.stop()


def queue_due_sms(count: int) -> list[str]:
    location = factories.LocationFactory()
    patient = factories.PatientFactory(sms_consent=True, phone="+14045550199")
    now = datetime.now(UTC)
    Notification.objects.bulk_create(
        Notification(
            key=f"due:{i}",
            kind=Notification.Kind.WAITLIST_OFFER,
            channel="sms",
            patient=patient,
            about_start=now + timedelta(days=1),
            context={"location": location.pk},
            due_at=now - timedelta(seconds=1),
        )
        for i in range(count)
    )
    return [f"due:{i}" for i in range(count)]


def assert_exactly_once(delivered: Counter, keys: list[str]) -> None:
    assert set(delivered) == set(keys), f"lost: {sorted(set(keys) - set(delivered))[:5]}"
    duplicates = {key: n for key, n in delivered.items() if n > 1}
    assert duplicates == {}
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == len(keys)


def test_beat_and_a_worker_send_every_due_message_once(cluster):
    keys = queue_due_sms(40)
    running = cluster(REMINDERS_DISPATCH_EVERY="1")
    running.worker()
    running.beat()

    assert_exactly_once(running.wait_for(len(keys)), keys)


def test_two_workers_at_once_send_each_message_once(cluster):
    keys = queue_due_sms(200)
    running = cluster(REMINDERS_BATCH_SIZE="10", SMS_SEND_DELAY="0.005")
    running.worker()
    running.worker()
    for _ in range(6):  # more sweeps than workers, all at once
        running.dispatch()

    assert_exactly_once(running.wait_for(len(keys)), keys)


def test_the_same_task_delivered_twice_sends_each_message_once(cluster):
    keys = queue_due_sms(100)
    running = cluster(REMINDERS_BATCH_SIZE="10", SMS_SEND_DELAY="0.005")
    running.worker(concurrency=2)
    task_id = str(uuid.uuid4())
    for _ in range(2):  # one message, delivered twice: the same task id
        app.send_task(
            "notifications.tasks.dispatch_due_messages", queue=running.queue, task_id=task_id
        )

    assert_exactly_once(running.wait_for(len(keys)), keys)


def test_a_worker_killed_mid_batch_loses_nothing(cluster):
    keys = queue_due_sms(120)
    running = cluster(REMINDERS_BATCH_SIZE="20", REMINDERS_LEASE_SECONDS="4", SMS_SEND_DELAY="0.05")
    first = running.worker()
    running.dispatch()
    running.dispatch()
    deadline = time.monotonic() + 30
    while sum(running.deliveries().values()) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)
    running.kill(first)
    in_flight = Notification.objects.filter(status=Notification.Status.SENDING).count()
    assert in_flight > 0  # claimed by the dead worker, held until their lease runs out
    assert sum(running.deliveries().values()) < len(keys)

    running.worker()
    delivered = running.wait_for(len(keys), poke=running.dispatch)

    assert set(delivered) == set(keys)
    # SIGKILL lands in the 50 ms provider call (nothing sent: resent later, once) or, rarely,
    # in the sub-millisecond gap after the provider accepted and before the commit: that
    # message goes twice. That gap is the one window no outbox closes (docs/reminders.md).
    duplicates = sum(n - 1 for n in delivered.values())
    assert duplicates <= 2
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == len(keys)


def test_a_crash_after_the_provider_accepted_sends_that_message_twice(cluster, settings):
    """The window, measured: the provider took the message, the worker died before commit."""
    keys = queue_due_sms(5)
    running = cluster(
        SMS_BACKEND="tests.test_celery_reminders.CrashAfterSendBackend",
        REMINDERS_LEASE_SECONDS="2",
        REMINDERS_BATCH_SIZE="1",
    )
    first = running.worker(concurrency=1)
    running.dispatch()
    deadline = time.monotonic() + 30
    while first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is not None or running.deliveries()  # it crashed after one send

    running.env["SMS_BACKEND"] = "notifications.sms.FileSMSBackend"
    running.worker()
    delivered = running.wait_for(len(keys), poke=running.dispatch)

    assert set(delivered) == set(keys)
    assert sorted(delivered.values()) == [1, 1, 1, 1, 2]


class CrashAfterSendBackend:
    """Hands the message to the 'provider' (the file), then the whole worker dies at once."""

    def send(self, message):
        from notifications.sms import FileSMSBackend

        FileSMSBackend().send(message)
        os.killpg(os.getpgid(os.getpid()), signal.SIGKILL)


def test_settings_never_use_long_countdowns():
    """Due times live in the outbox: no task is queued with an ETA or countdown."""
    sources = [*(ROOT / "booking").rglob("*.py"), *(ROOT / "skinclinic").rglob("*.py")]
    for source in sources:
        assert not re.search(r"\b(countdown|eta)\s*=", source.read_text()), source
    assert settings.CELERY_BEAT_SCHEDULE["dispatch-due-messages"]["schedule"] <= 60
