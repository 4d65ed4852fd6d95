"""Which Python `make` builds the virtualenv with: the newest of 3.13, 3.12 and
3.11 that runs, found by running each (a pyenv shim exists for versions that
are not installed and fails), unless PYTHON=... names one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
SHIM = '#!/bin/sh\necho "pyenv: $(basename "$0"): command not found" >&2\nexit 127\n'
PRINT_PYTHON = 'print-python: ; @echo "$(PYTHON)"'

pytestmark = pytest.mark.skipif(MAKE is None, reason="no make")


def path_with(tmp_path: Path, working: list[str], shims: list[str]) -> str:
    """A PATH of one folder: `working` names run this test's Python, `shims` fail."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in working:
        (folder / name).symlink_to(sys.executable)
    for name in shims:
        (folder / name).write_text(SHIM)
        (folder / name).chmod(0o755)
    return str(folder)


def make(path: str, *args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS", "MFLAGS")}
    return subprocess.run(
        [str(MAKE), "--no-print-directory", "-s", "-C", str(root), *args],
        env={**env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_newest_python_that_runs_wins_over_a_failing_shim(tmp_path: Path) -> None:
    path = path_with(tmp_path, working=["python3.11", "python3.12"], shims=["python3.13"])
    result = make(path, "--eval", PRINT_PYTHON, "print-python")
    assert (result.returncode, result.stdout) == (0, "python3.12\n"), result.stderr


def test_an_explicit_python_wins(tmp_path: Path) -> None:
    path = path_with(tmp_path, working=["python3.12", "python3.13"], shims=[])
    result = make(path, "--eval", PRINT_PYTHON, "print-python", "PYTHON=python3.12")
    assert result.stdout == "python3.12\n"


def test_no_supported_python_says_what_was_looked_for_and_what_to_do(tmp_path: Path) -> None:
    clone = tmp_path / "clone"  # a fresh clone: no .venv yet
    (clone / "requirements").mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "requirements/dev.txt"):
        shutil.copy(ROOT / name, clone / name)
    path = path_with(tmp_path, working=["python3.10"], shims=["python3.12", "python3.13"])
    result = make(path, "venv", root=clone)
    assert result.returncode != 0
    assert "looked for python3.13 python3.12 python3.11" in result.stdout
    assert "PYTHON=/path/to/python3.12" in result.stdout
    assert not (clone / ".venv").exists()


def test_a_python_outside_the_supported_versions_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "python").write_text("#!/bin/sh\nexit 1\n")  # like a Python below 3.11
    (old / "python").chmod(0o755)
    result = make(str(old), "python", f"PYTHON={old / 'python'}")
    assert result.returncode != 0
    assert "is not Python 3.11, 3.12 or 3.13" in result.stdout
