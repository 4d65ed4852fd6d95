"""Shared fixtures. Each part keeps its fixtures in its own module and registers it here."""

import sys
from pathlib import Path

# `tests.*` modules (the fakes, harnesses) are imported by package name from tests,
# bench/ and the local mode; make the repository root importable under pytest too.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

pytest_plugins = [
    "tests.fakes.plugin",
    "tests.kube.plugin",
]
