"""requirements/check_installed.py: `make venv` and `make install-runtime` install the
lock with --no-deps, so this check must still catch a missing or conflicting
requirement, and let through only the conflicts requirements/overrides.txt lifts."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "requirements" / "check_installed.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_installed", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_only_the_overridden_conflicts_pass() -> None:
    check = load()
    allowed = check.overridden()
    assert "openai" in allowed
    report = "\n".join(
        [
            "semantic-router 0.1.16 has requirement openai<3.0.0,>=1.10.0,"
            " but you have openai 3.57.0.",
            "litellm 1.108.7 has requirement httpx>=0.28, but you have httpx 0.27.0.",
            "aurelio-sdk 0.0.19 requires requests-toolbelt, which is not installed.",
        ]
    )
    found = check.problems(report, allowed)
    assert [line.split()[0] for line in found] == ["litellm", "aurelio-sdk"]


def test_the_project_venv_passes() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stdout) == (0, "")
