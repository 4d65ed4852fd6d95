"""`pip check` for an environment installed from the lock with `--no-deps`.

pip cannot honour the lock's overrides (overrides.txt), so `make venv` and
`make install-runtime` install the complete, hash-checked lock without
resolving, and this check then stands in for pip's resolver: any missing or
conflicting requirement fails, except a conflict on a package overrides.txt
lifts on purpose. Run it with the environment's own Python.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

OVERRIDES = Path(__file__).with_name("overrides.txt")
# "semantic-router 0.1.16 has requirement openai<3.0.0,>=1.10.0, but you have openai 3.57.0."
CONFLICT = re.compile(r"^\S+ \S+ has requirement ([A-Za-z0-9._-]+)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def overridden() -> set[str]:
    names = set()
    for line in OVERRIDES.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)", line.strip())
        if match and not line.lstrip().startswith("#"):
            names.add(normalize(match.group(1)))
    return names


def problems(report: str, allowed: set[str]) -> list[str]:
    """The lines of a `pip check` report that overrides.txt does not account for."""
    found = []
    for line in report.splitlines():
        match = CONFLICT.match(line)
        if line.strip() and not (match and normalize(match.group(1)) in allowed):
            found.append(line)
    return found


def main() -> int:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    found = problems(result.stdout, overridden())
    if found:
        print("The installed lock is inconsistent (see requirements/overrides.txt):")
        print("\n".join(f"  {p}" for p in found))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
