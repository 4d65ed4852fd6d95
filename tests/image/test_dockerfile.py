"""The Dockerfile: hadolint-clean, multi-stage, installs through `make
install-runtime`, ships only the virtualenv, runs as non-root; its `mcp` target
bakes the locked npm packages into a non-root Node.js image."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from .dockerfile import Stage, context_files, parse

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
INSTALL = "make install-runtime TARGET=/opt/venv"


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text())


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def stage(stages: list[Stage], name: str) -> Stage:
    (found,) = [s for s in stages if s.name == name]
    return found


def test_the_default_target_is_the_proxy_image(stages: list[Stage]) -> None:
    # `docker build .` builds the last stage: the operator/proxy image, not the MCP one.
    assert [s.name for s in stages] == ["builder", "mcp", ""]


def test_builder_installs_with_the_make_target(stages: list[Stage]) -> None:
    builder, final = stage(stages, "builder"), stages[-1]
    assert builder.all("RUN")[-1] == INSTALL
    assert builder.base == final.base


def test_base_image_is_pinned_by_digest_to_a_python_the_lock_serves(stages: list[Stage]) -> None:
    # A tag moves; the digest (of the multi-platform index, so the amd64 and
    # arm64 builds share it) does not.
    base = stages[-1].base
    match = re.fullmatch(r"python:3\.(\d+)-slim-bookworm@sha256:[0-9a-f]{64}", base)
    assert match, f"{base}: want python:3.X-slim-bookworm@sha256:<index digest>"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(f"3.{match.group(1)}.0"), (base, requires)


def test_final_stage_holds_only_the_virtualenv(stages: list[Stage]) -> None:
    final = stages[-1]
    assert final.all("COPY") == ["--from=builder /opt/venv /opt/venv"]
    assert final.all("ADD") == []
    for command in final.all("RUN"):
        assert not re.search(r"apt-get|apk|pip |gcc|make|curl|wget", command), command


def test_runs_as_non_root(stages: list[Stage]) -> None:
    final = stages[-1]
    (user,) = final.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0
    assert final.instructions.index(("USER", user)) > max(
        i for i, (ins, _) in enumerate(final.instructions) if ins in ("RUN", "COPY")
    )


def test_every_command_can_be_run(stages: list[Stage]) -> None:
    final = stages[-1]
    # No ENTRYPOINT: `copilot-proxy operator`, `copilot-proxy auth-service` and
    # `litellm --config ...` are each a plain command (Kubernetes `command:`).
    assert final.all("ENTRYPOINT") == []
    assert final.all("CMD") == ['["copilot-proxy", "operator"]']
    (env,) = final.all("ENV")
    assert "PATH=/opt/venv/bin:$PATH" in env


def test_build_context_holds_what_the_install_reads_and_no_secrets() -> None:
    files = context_files(ROOT, (ROOT / ".dockerignore").read_text())
    assert {"Makefile", "pyproject.toml", "README.md", "requirements/runtime.txt"} <= set(files)
    assert any(f.startswith("copilot_proxy/") for f in files)
    for path in files:
        top = path.split("/")[0]
        assert top in {
            "Makefile",
            "pyproject.toml",
            "README.md",
            "requirements",
            "copilot_proxy",
            "npm",
        }, path
        assert "__pycache__" not in path and not path.startswith(".")
    npm = [f for f in files if f.startswith("npm/")]
    assert npm == ["npm/package-lock.json", "npm/package.json"]  # no node_modules


def test_mcp_image_bakes_the_npm_lock_without_the_test_tools(stages: list[Stage]) -> None:
    mcp = stage(stages, "mcp")
    # Pinned by the digest of the multi-platform index, as the Python base.
    assert re.fullmatch(r"node:(\d+)-bookworm-slim@sha256:[0-9a-f]{64}", mcp.base), mcp.base
    assert int(mcp.base.split(":")[1].split("-")[0]) >= 20  # the MCP packages need Node.js 20+
    assert mcp.all("COPY") == ["npm/package.json npm/package-lock.json ./"]
    (install,) = mcp.all("RUN")
    assert install.startswith("npm ci --omit=dev --ignore-scripts ")  # the lock, no dev tools
    locked = json.loads((ROOT / "npm" / "package.json").read_text())
    assert set(locked["dependencies"]) == {
        "@modelcontextprotocol/server-memory",
        "@modelcontextprotocol/server-filesystem",
        "supergateway",
    }
    assert "@anthropic-ai/claude-code" in locked["devDependencies"]


def test_mcp_image_runs_as_the_pods_non_root_user(stages: list[Stage]) -> None:
    mcp = stage(stages, "mcp")
    assert mcp.all("USER") == ["10001:10001"]  # runAsUser of the MCP pods
    (env,) = mcp.all("ENV")
    assert "PATH=/opt/mcp/node_modules/.bin:$PATH" in env and "HOME=/tmp" in env
