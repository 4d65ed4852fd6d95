"""What `copilot-proxy run` says when it cannot run: bad manifest, busy port (fast, no LiteLLM)."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.ports import free_port
from tests.local.helpers import CLI, write_manifest


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "run", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "copilot.yaml"
    write_manifest(path, ["claude-opus-4.6", "gpt-5-mini"])
    return path


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: copilot-proxy.dev/v1alpha1\nkind: CopilotProxy\nmetadata: {name: c}\n"
            "spec:\n  models:\n    - name: github_copilot/gpt-5-mini\n",
            r"spec\.models\[0\]\.name: write 'gpt-5-mini' without the prefix",
        ),
        (
            "apiVersion: copilot-proxy.dev/v1alpha1\nkind: CopilotProxy\nmetadata: {name: c}\n"
            "spec:\n  models: [{name: gpt-5-mini}]\n  routes: [{name: fast, models: [gpt-4o]}]\n",
            r"spec\.routes\[0\]\.models\[0\]: 'gpt-4o' is not in spec\.models",
        ),
        ("kind: CopilotProxy\nspec: [unclosed\n", r"not valid YAML"),
    ],
    ids=["prefixed-model", "route-outside-chain", "not-yaml"],
)
def test_a_bad_manifest_names_file_and_field_and_exits_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    state = tmp_path / "state"
    done = run("-f", str(path), "--state-dir", str(state))
    assert done.returncode == 2
    assert done.stderr.startswith(f"copilot-proxy: {path}: ")
    assert re.search(expected, done.stderr), done.stderr
    assert "Traceback" not in done.stderr
    assert not state.exists()  # nothing generated for a run that never started


def test_a_missing_manifest_says_so(tmp_path: Path) -> None:
    done = run("-f", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2
    assert "nope.yaml: cannot read it (No such file or directory)" in done.stderr


def test_the_login_page_port_in_use(manifest: Path, busy_port: int, tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = ("--auth-port", str(busy_port), "--proxy-port", str(free_port()))
    done = run("-f", str(manifest), "--state-dir", str(state), *args)
    assert done.returncode == 1
    first, second = done.stderr.splitlines()[:2]
    assert first == (
        f"copilot-proxy: port {busy_port} (the login page) is already in use on 127.0.0.1."
    )
    suggested = re.search(r"pick another port: --auth-port (\d+)$", second)
    assert suggested, second
    assert int(suggested.group(1)) != busy_port
    assert not state.exists()  # no master key was made (and shown) for nothing


def test_the_proxy_port_in_use(manifest: Path, busy_port: int, tmp_path: Path) -> None:
    args = ("--proxy-port", str(busy_port), "--auth-port", str(free_port()))
    done = run("-f", str(manifest), "--state-dir", str(tmp_path / "state"), *args)
    assert done.returncode == 1
    assert f"port {busy_port} (the proxy) is already in use" in done.stderr
    assert "--proxy-port" in done.stderr


def test_one_port_for_both(manifest: Path, tmp_path: Path) -> None:
    port = str(free_port())
    done = run(
        "-f", str(manifest), "--state-dir", str(tmp_path), "--proxy-port", port, "--auth-port", port
    )
    assert done.returncode == 1
    assert f"--proxy-port and --auth-port are both {port}" in done.stderr
