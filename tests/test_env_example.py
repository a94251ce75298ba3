""".env.example lists every environment variable the code reads, and nothing it does not."""

import ast
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", "tests", "bench", "migrations", "node_modules", "static", "staticfiles"}
LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
SHELL_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]*):?-")


def is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def names_read(tree: ast.AST) -> set[str]:
    """Names passed as a literal to os.environ.get, os.getenv, os.environ[...] or env_*()."""
    names = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            method = func.attr if isinstance(func, ast.Attribute) else None
            if (
                (method == "get" and is_os_environ(func.value))
                or method == "getenv"
                or (isinstance(func, ast.Name) and func.id.startswith("env_"))  # settings' helpers
            ):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and is_os_environ(node.value):
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def python_files() -> list[Path]:
    return [
        path
        for path in BASE_DIR.rglob("*.py")
        if not SKIP_DIRS & set(path.relative_to(BASE_DIR).parts)
    ]


def variables_the_code_reads() -> set[str]:
    names = set()
    for path in python_files():
        names |= names_read(ast.parse(path.read_text(), filename=str(path)))
    for path in (BASE_DIR / "scripts").glob("*.sh"):
        names |= set(SHELL_READ.findall(path.read_text()))
    return names


def listed_variables() -> set[str]:
    return set(LISTED.findall((BASE_DIR / ".env.example").read_text()))


def test_the_scan_finds_what_settings_reads():
    # Guards the scanner itself: a few reads of each kind in settings.py and the scripts.
    assert {"DATABASE_URL", "SECRET_KEY", "EMAIL_PORT", "REDIS_URL", "SITE_URL"} <= (
        variables_the_code_reads()
    )
    assert {"GUNICORN_BIND", "DEMO_PASSWORD", "CELERY_BEAT_SCHEDULE_FILE"} <= (
        variables_the_code_reads()
    )


def test_every_variable_the_code_reads_is_in_env_example():
    missing = variables_the_code_reads() - listed_variables()
    assert not missing, f"add to .env.example, with a comment: {sorted(missing)}"


def test_env_example_lists_no_variable_the_code_does_not_read():
    stale = listed_variables() - variables_the_code_reads()
    assert not stale, f"no code reads these any more: {sorted(stale)}"


def test_every_variable_in_env_example_has_a_comment_above_it():
    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if LISTED.match(line):
            above = lines[number - 1]
            assert above.startswith("#") and not LISTED.match(above), (
                f".env.example line {number + 1} ({line}) needs a comment line above it"
            )


def test_a_read_missing_from_env_example_is_caught():
    tree = ast.parse('import os\nX = os.environ.get("SKINCLINIC_NEW_THING", "")\n')
    assert names_read(tree) - listed_variables() == {"SKINCLINIC_NEW_THING"}
