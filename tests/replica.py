"""A real PostgreSQL streaming replica of the test database, for tests/test_replica.py.

`start_standby` copies the whole primary cluster with ``pg_basebackup -R`` (so the test
database pytest-django just created comes along) into a temporary directory, and starts it as
a hot standby on its own port, as the postgres user (PostgreSQL refuses to run as root). The
primary needs a ``host replication`` line in pg_hba.conf: scripts/setup-test-machine.sh adds it.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# Hot standby refuses to start when these are below the primary's.
COPIED_SETTINGS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


class StandbyUnavailable(Exception):
    """This machine cannot make a replica (no binaries, no replication access, no port)."""


def as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def run(command: list[str], *, timeout: float = 120) -> str:
    result = subprocess.run(
        as_postgres(command), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise StandbyUnavailable(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout


@dataclass
class Standby:
    """A running hot standby: its port, the database to read, and its files."""

    port: int
    dbname: str
    primary: dict
    directory: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def connect(self, *, replica: bool = True) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port if replica else self.primary["port"],
            user=self.primary["user"],
            dbname=self.dbname,
            autocommit=True,
        )

    def wait_for_replay(self, timeout: float = 30) -> float:
        """Seconds until the standby replayed everything the primary has written so far."""
        with self.connect(replica=False) as primary:
            target = primary.execute("select pg_current_wal_lsn()").fetchone()[0]
        started = time.monotonic()
        with self.connect() as standby:
            while True:
                caught_up = standby.execute(
                    "select pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
                ).fetchone()[0]
                if caught_up:
                    return time.monotonic() - started
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"the replica did not reach {target} in {timeout} s")
                time.sleep(0.02)

    def pause_replay(self, timeout: float = 10) -> None:
        """Stop applying WAL: from here the replica is stale until resume_replay(). Waits until
        the standby says "paused": before that it may still apply a record or more."""
        started = time.monotonic()
        with self.connect() as standby:
            standby.execute("select pg_wal_replay_pause()")
            while standby.execute("select pg_get_wal_replay_pause_state()").fetchone()[0] != (
                "paused"
            ):
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"the replica did not pause in {timeout} s")
                time.sleep(0.01)

    def resume_replay(self) -> None:
        with self.connect() as standby:
            standby.execute("select pg_wal_replay_resume()")


def start_standby(*, host: str, port: int, user: str, dbname: str, first_port: int) -> Standby:
    if not (PG_BIN / "pg_basebackup").exists():
        raise StandbyUnavailable(f"no PostgreSQL binaries in {PG_BIN} (set PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        raise StandbyUnavailable("running as root without runuser")
    standby_port = next(p for p in range(first_port, first_port + 20) if port_is_free(p))
    with psycopg.connect(host=host, port=port, user=user, dbname="postgres") as primary:
        copied = {
            name: primary.execute(f"show {name}").fetchone()[0]  # noqa: S608 - fixed names
            for name in COPIED_SETTINGS
        }
    directory = Path(tempfile.mkdtemp(prefix="skinclinic-replica-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        standby = Standby(
            port=standby_port,
            dbname=dbname,
            primary={"host": host, "port": port, "user": user},
            directory=directory,
        )
        run(
            [
                str(PG_BIN / "pg_basebackup"),
                f"--host={host}",
                f"--port={port}",
                f"--username={user}",
                f"--pgdata={standby.data}",
                "--write-recovery-conf",  # -R: standby.signal and primary_conninfo
                "--wal-method=stream",
                "--checkpoint=fast",
                "--no-sync",
            ]
        )
        # Debian keeps the configuration outside the data directory, so the copy has none.
        config = {
            **copied,
            "port": str(standby_port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{directory}'",
            "hot_standby": "on",
            "fsync": "off",
            "hba_file": f"'{standby.data / 'pg_hba.conf'}'",
            "ident_file": f"'{standby.data / 'pg_ident.conf'}'",
        }
        files = {
            "postgresql.conf": "".join(f"{key} = {value}\n" for key, value in config.items()),
            "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
            "pg_ident.conf": "",
        }
        for name, text in files.items():
            script = f"cat > {standby.data / name}"
            subprocess.run(as_postgres(["sh", "-c", script]), input=text, text=True, check=True)
        run(
            [
                str(PG_BIN / "pg_ctl"),
                f"--pgdata={standby.data}",
                f"--log={directory / 'standby.log'}",
                "--wait",
                "--timeout=60",
                "start",
            ]
        )
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return standby


def stop_standby(standby: Standby) -> None:
    try:
        run([str(PG_BIN / "pg_ctl"), f"--pgdata={standby.data}", "--mode=immediate", "stop"])
    finally:
        shutil.rmtree(standby.directory, ignore_errors=True)
