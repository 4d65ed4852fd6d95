"""Shared fixtures. Each part keeps its fixtures in its own module and registers it here."""

import os
import sys
from pathlib import Path

# litellm, imported by tests as a library or a client, would download its cost map at
# import (no internet here; the proxy processes get the same setting from their env).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# `testkit` (the fakes, the emulator, the harness) and `tests.*` are imported by package
# name from tests and bench/; make the repository root importable under pytest too.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

pytest_plugins = [
    "tests.fakes.plugin",
    "tests.kube.plugin",
]
