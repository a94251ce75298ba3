"""scripts/setup-test-machine.sh: which Debian packages `make test` installs, and how it asks.

The package step runs with a PATH holding only fakes: a tool is "installed" when its fake
exists, `apt-get` records its arguments instead of installing, and `id` says who we are.
Nothing is installed for real.
"""

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "setup-test-machine.sh"
TOOLS = ("chromium", "pg_ctlcluster", "redis-server", "make", "python3")


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
    extension = tmp_path / "share" / "16" / "extension"
    extension.mkdir(parents=True)
    if contrib:
        (extension / "btree_gist.control").write_text("")
    return bin_dir


def run_packages_step(tmp_path: Path, bin_dir: Path, *, uid: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), "packages"],
        env={"PATH": str(bin_dir), "FAKE_UID": str(uid), "PG_SHARE": str(tmp_path / "share")},
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
