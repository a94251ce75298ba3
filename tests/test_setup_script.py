"""scripts/setup-test-machine.sh (what `make test` runs first) installs exactly what a fresh
machine lacks when it may, and otherwise says the one line to run. Run against fake tools on
a PATH of their own: nothing is installed for real."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "setup-test-machine.sh"
PRESENT = ("pg_ctlcluster", "redis-server", "make")  # chromium is the one missing


def fake_machine(tmp_path: Path, *, uid: int) -> tuple[dict, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-get.calls"
    tools = {name: "exit 0" for name in PRESENT}
    tools["python3"] = "exit 0"  # venv and ensurepip importable
    tools["id"] = f"echo {uid}"
    tools["apt-get"] = f'echo "$*" >> {calls}'
    for name, body in tools.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    for real in ("dirname",):  # what the script itself uses beyond bash builtins
        (bin_dir / real).symlink_to(f"/usr/bin/{real}")
    env = {"PATH": str(bin_dir), "SETUP_SKIP_SERVICES": "1", "HOME": str(tmp_path)}
    return env, calls


def run(env):
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )


def test_as_root_it_installs_exactly_the_missing_package(tmp_path):
    env, calls = fake_machine(tmp_path, uid=0)

    result = run(env)

    assert result.returncode == 0, result.stderr
    assert "Installing: chromium" in result.stdout
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]


def test_without_root_it_prints_the_line_to_run_and_stops(tmp_path):
    env, calls = fake_machine(tmp_path, uid=1000)

    result = run(env)

    assert result.returncode == 1
    assert "sudo apt-get install -y chromium" in result.stderr
    assert not calls.exists()


def test_on_a_complete_machine_it_installs_nothing(tmp_path):
    env, calls = fake_machine(tmp_path, uid=0)
    (Path(env["PATH"]) / "chromium").write_text("#!/bin/sh\nexit 0\n")
    (Path(env["PATH"]) / "chromium").chmod(0o755)

    result = run(env)

    assert result.returncode == 0 and not calls.exists()
