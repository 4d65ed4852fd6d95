"""The image's install step, run for real: the build context .dockerignore
leaves, the builder stage's COPY lines, then the very command of its RUN line
(`make install-runtime`) into a fresh virtualenv. Every command the image offers
must then start from that virtualenv. Slow (about a minute): it installs the
whole runtime lock."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .dockerfile import apply_copies, context_files, parse

ROOT = Path(__file__).resolve().parents[2]
IMAGE_VENV = "/opt/venv"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(source tree as the builder stage saw it, the installed virtualenv)."""
    root = tmp_path_factory.mktemp("image")
    builder = parse((ROOT / "Dockerfile").read_text())[0]
    files = context_files(ROOT, (ROOT / ".dockerignore").read_text())
    workdir = apply_copies(builder, ROOT, files, root / "fs")
    (install,) = [r for r in builder.all("RUN") if r.startswith("make ")]
    command = install.split(" ")
    venv = root / "venv"
    command = [f"TARGET={venv}" if part == f"TARGET={IMAGE_VENV}" else part for part in command]
    assert f"TARGET={venv}" in command, install
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    yield workdir, venv


def run(venv: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / command[0]), *command[1:]],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=venv,
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_install_runtime_gives_every_command_of_the_image(built: tuple[Path, Path]) -> None:
    source, venv = built
    failures = []
    commands: list[tuple[str, ...]] = [("litellm", "--help"), ("kopf", "--help")]
    if (source / "copilot_proxy" / "cli.py").exists():
        commands += [
            ("copilot-proxy", "--help"),
            ("copilot-proxy", "operator", "--help"),
            ("copilot-proxy", "auth-service", "--help"),
        ]
    for command in commands:
        result = run(venv, *command)
        if result.returncode != 0:
            failures.append(f"{' '.join(command)}: {result.stderr[-2000:]}")
    # Every package of the source tree is installed, not just the console script.
    packages = sorted(
        ".".join(p.parent.relative_to(source).parts)
        for p in (source / "copilot_proxy").rglob("__init__.py")
    )
    assert "copilot_proxy" in packages
    imported = run(venv, "python", "-c", f"import {', '.join(packages)}")
    if imported.returncode != 0:
        failures.append(f"import {packages}: {imported.stderr[-2000:]}")
    assert failures == []
    # Only the hash-pinned lock went in: its dependency set is consistent, but for
    # what requirements/overrides.txt lifts on purpose (semantic-router's openai<3).
    check = run(venv, "python", str(source / "requirements" / "check_installed.py"))
    assert check.returncode == 0, check.stdout
    overridden = run(venv, "python", "-m", "pip", "check")
    assert overridden.stdout.startswith("semantic-router "), overridden.stdout
    # LiteLLM's MCP semantic tool filter finds its package.
    semantic = run(venv, "python", "-c", "import semantic_router.routers")
    assert semantic.returncode == 0, semantic.stderr[-2000:]
