"""The layers of docs/architecture.md hold (`lint-imports`, as `make lint` runs it), and the
contracts catch what they are for: booking importing an app above it, and an import cycle."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("skinclinic", "api", "desk", "portal", "notifications", "charts", "accounts", "payments",
        "consent", "photos", "calendars", "booking", "treatments")  # fmt: skip
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def tree(tmp_path):
    """A copy of the project's Python packages and its contracts, to break on purpose."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_project_keeps_its_layers():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout


def test_booking_importing_a_door_breaks_the_build(tree):
    add_line(tree / "booking" / "schedule.py", "from desk import forms  # noqa")

    result = lint(tree)

    assert result.returncode != 0
    assert "booking is not allowed to import desk" in result.stdout


def test_booking_importing_the_outbox_breaks_the_build(tree):
    add_line(tree / "booking" / "services" / "appointments.py", "import notifications.planning")

    result = lint(tree)

    assert result.returncode != 0
    assert "booking is not allowed to import notifications" in result.stdout


def test_an_import_cycle_inside_an_app_breaks_the_build(tree):
    # services.errors is imported by every other services module; make it import one back.
    add_line(tree / "booking" / "services" / "errors.py", "from booking.services import plans")

    result = lint(tree)

    assert result.returncode != 0
    assert "No import cycles" in result.stdout and "BROKEN" in result.stdout
