"""Start and stop real server processes for benchmarks and tests: gunicorn on an ephemeral
127.0.0.1 port, and a Celery worker. Each runs in its own process group and is always killed
on exit, including its children."""

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is using now (e.g. pytest-django's test one)."""
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def server_env(**overrides: str) -> dict:
    """Production-like settings for plain HTTP on 127.0.0.1."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "GUNICORN_ACCESSLOG": "",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


class _Process:
    """A child process in its own group, with its output kept (last lines) for diagnosis."""

    def __init__(self, args: list[str], env: dict):
        self.output: deque[str] = deque(maxlen=200)
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._lines: deque[str] = deque()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.output.append(line.rstrip())
            self._lines.append(line)

    def wait_for(self, pattern: re.Pattern, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self._lines:
                match = pattern.search(self._lines.popleft())
                if match:
                    return match
            if self.popen.poll() is not None and not self._lines:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("process did not start:\n" + "\n".join(self.output))

    def stop(self) -> None:
        if self.popen.poll() is None:
            with_group = os.getpgid(self.popen.pid)
            os.killpg(with_group, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(with_group, signal.SIGKILL)
                self.popen.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Gunicorn(_Process):
    """gunicorn with skinclinic/gunicorn.conf.py on 127.0.0.1 and a port the OS picks."""

    def __init__(self, env: dict, *, workers: int | None = None, threads: int = 1):
        """`workers=None` keeps gunicorn.conf.py's count (cores + 1)."""
        sizing = ["--threads", str(threads)]
        if workers is not None:
            sizing += ["--workers", str(workers)]
        super().__init__(
            [
                str(BIN / "gunicorn"),
                "-c",
                "skinclinic/gunicorn.conf.py",
                "--bind",
                "127.0.0.1:0",
                *sizing,
                "skinclinic.wsgi",
            ],
            env,
        )
        self.port = int(self.wait_for(LISTENING, timeout=30).group(1))
        self.url = f"http://127.0.0.1:{self.port}"


class CeleryWorker(_Process):
    """One Celery worker (solo pool) on the given queue."""

    def __init__(self, env: dict, *, queue: str):
        super().__init__(
            [
                str(BIN / "celery"),
                "-A",
                "skinclinic",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--loglevel=INFO",
            ],
            {**env, "CELERY_QUEUE": queue},
        )
        self.wait_for(re.compile(r"\bready\."), timeout=60)


async def http(
    port: int, method: str, path: str, *, headers: dict | None = None, body: bytes = b""
) -> tuple[int, bytes]:
    """One HTTP/1.1 request to 127.0.0.1:port on a fresh connection: (status, body).
    Status 0 means the connection failed."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await reader.read()
        writer.close()
    except OSError:
        return 0, b""
    head, _, content = raw.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0, raw
    return status, content
