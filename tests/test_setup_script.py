"""scripts/setup-test-machine.sh: which Debian packages `make test` installs, and how it asks.

The package step runs with a PATH holding only fakes: a tool is "installed" when its fake
exists, `apt-get` records its arguments instead of installing, and `id` says who we are.
Nothing is installed for real.
"""

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "setup-test-machine.sh"
TOOLS = ("chromium", "pg_ctlcluster", "redis-server", "make", "python3", "msgfmt", "xgettext")


def fake_machine(tmp_path: Path, *, missing: tuple[str, ...] = (), contrib: bool = True) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()

    def script(name: str, body: str) -> None:
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    for tool in TOOLS:
        if tool not in missing:
            script(tool, "exit 0")
    if "python3" in missing:
        # Debian's python3 without python3-venv: the interpreter is there, ensurepip is not.
        script("python3", "exit 1")
    script("apt-get", f'echo "$*" >> {tmp_path / "apt-get.log"}')
    script("id", 'echo "$FAKE_UID"')
    pango = tmp_path / "lib" / "x86_64-linux-gnu"
    pango.mkdir(parents=True)
    if "pango" not in missing:
        (pango / "libpango-1.0.so.0").write_text("")
    extension = tmp_path / "share" / "16" / "extension"
    extension.mkdir(parents=True)
    if contrib:
        (extension / "btree_gist.control").write_text("")
    return bin_dir


def run_packages_step(tmp_path: Path, bin_dir: Path, *, uid: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), "packages"],
        env={
            "PATH": str(bin_dir),
            "FAKE_UID": str(uid),
            "PG_SHARE": str(tmp_path / "share"),
            "LIB_DIR": str(tmp_path / "lib"),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )


def apt_get_calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "apt-get.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize(
    ("missing", "contrib", "packages"),
    [
        (("chromium",), True, "chromium"),
        (("redis-server",), True, "redis-server"),
        (("python3",), True, "python3-venv"),
        (("pg_ctlcluster",), False, "postgresql postgresql-contrib"),
        ((), False, "postgresql-contrib"),
        (("chromium", "redis-server"), True, "chromium redis-server"),
        (("xgettext",), True, "gettext"),
        (("pango",), True, "libpango-1.0-0 libpangoft2-1.0-0"),
    ],
)
def test_as_root_it_installs_exactly_the_missing_packages(tmp_path, missing, contrib, packages):
    bin_dir = fake_machine(tmp_path, missing=missing, contrib=contrib)

    result = run_packages_step(tmp_path, bin_dir, uid=0)

    assert result.returncode == 0, result.stderr
    assert apt_get_calls(tmp_path) == ["update -qq", f"install -y -qq {packages}"]
    assert f"installing {packages}" in result.stdout


def test_as_a_user_it_prints_the_sudo_line_and_stops(tmp_path):
    bin_dir = fake_machine(tmp_path, missing=("chromium",))

    result = run_packages_step(tmp_path, bin_dir, uid=1000)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "setup-test-machine: missing chromium; install them with: sudo apt-get install -y chromium"
    ]
    assert apt_get_calls(tmp_path) == []


@pytest.mark.parametrize("uid", [0, 1000])
def test_with_everything_installed_it_calls_no_apt_get(tmp_path, uid):
    bin_dir = fake_machine(tmp_path)

    result = run_packages_step(tmp_path, bin_dir, uid=uid)

    assert result.returncode == 0, result.stderr
    assert apt_get_calls(tmp_path) == []
    assert result.stdout == ""


# --- The replication step: pg_basebackup (tests/test_replica.py) may connect from 127.0.0.1 ---

DEBIAN_HBA = """\
# Database administrative login by Unix domain socket
local   all             postgres                                peer
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
local   replication     all                                     peer
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
"""
TRUSTED = "host replication all 127.0.0.1/32 trust"


def fake_postgres(tmp_path: Path, hba: str, *, wal_level: str = "replica") -> Path:
    """A PATH whose psql answers `show ...` like a server with this pg_hba.conf and logs
    every other statement; python3 splits DATABASE_URL as the real one would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    hba_file = tmp_path / "pg_hba.conf"
    hba_file.write_text(hba)
    (bin_dir / "psql").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {tmp_path / "psql.log"}\n'
        'case "$*" in\n'
        f'  *"show wal_level"*) echo {wal_level} ;;\n'
        '  *"show max_wal_senders"*) echo 10 ;;\n'
        f'  *"show hba_file"*) echo {hba_file} ;;\n'
        "esac\n"
    )
    (bin_dir / "python3").write_text("#!/bin/sh\necho postgres 127.0.0.1 5432 skinclinic\n")
    for tool in ("psql", "python3"):
        (bin_dir / tool).chmod(0o755)
    return bin_dir


def run_replication_step(bin_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), "replication"],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )


def reloads(tmp_path: Path) -> int:
    log = tmp_path / "psql.log"
    return log.read_text().count("pg_reload_conf") if log.exists() else 0


@pytest.mark.parametrize(
    "hba",
    [DEBIAN_HBA, "local all all trust\nhost all all 127.0.0.1/32 trust\n"],
    ids=["debian-default", "trust-for-all-but-replication"],
)
def test_it_trusts_replication_from_localhost_once_and_reloads(tmp_path, hba):
    bin_dir = fake_postgres(tmp_path, hba)

    first = run_replication_step(bin_dir)
    again = run_replication_step(bin_dir)

    assert first.returncode == 0, first.stderr
    assert "allowed replication from 127.0.0.1" in first.stdout
    # First, so that it wins over Debian's password line; the rest is kept as it was.
    assert (tmp_path / "pg_hba.conf").read_text() == f"{TRUSTED}\n{hba}"
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert reloads(tmp_path) == 1


def test_a_server_that_already_trusts_replication_is_left_alone(tmp_path):
    hba = "# ours\nhost  replication,all  all  127.0.0.1/32  trust\n"
    bin_dir = fake_postgres(tmp_path, hba)

    result = run_replication_step(bin_dir)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert (tmp_path / "pg_hba.conf").read_text() == hba
    assert reloads(tmp_path) == 0


def test_a_server_without_wal_for_replication_is_named_not_restarted(tmp_path):
    bin_dir = fake_postgres(tmp_path, DEBIAN_HBA, wal_level="minimal")

    result = run_replication_step(bin_dir)

    assert result.returncode != 0
    assert "wal_level=minimal" in result.stderr
    assert "restart" in result.stderr
    assert (tmp_path / "pg_hba.conf").read_text() == DEBIAN_HBA
    assert reloads(tmp_path) == 0
