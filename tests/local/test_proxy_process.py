"""The local proxy process: the Deployment's command, environment and token layout; clean stops."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from copilot_proxy.core import manifests, render
from copilot_proxy.core.github import GitHub
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.local import proxy_process as pp
from copilot_proxy.local.state import ensure_master_key, first_run_text, prepare
from testkit.ports import free_port
from testkit.proxy_harness import ProxyExited, rebased_github_urls, wait_ready
from tests.local.helpers import alive, descendants, wait_gone

SPEC = parse_spec("copilot", "local", {"models": [{"name": "claude-opus-4.6"}]})
GHE = parse_spec(
    "copilot",
    "local",
    {"models": [{"name": "gpt-5-mini"}], "github": {"host": "acme.ghe.com"}},
    (GitHub.named("acme.ghe.com"),),
)


def deployed_container() -> dict[str, Any]:
    d = manifests.deployment(SPEC, image="x", replicas=1, pod_annotations={}, owner=None)
    container: dict[str, Any] = d["spec"]["template"]["spec"]["containers"][0]
    return container


def test_command_is_the_containers_with_local_paths_and_port(tmp_path: Path) -> None:
    argv = pp.command(SPEC, config_path=tmp_path / "config.yaml", host="127.0.0.1", port=4100)
    c = deployed_container()
    assert Path(argv[0]).name == "litellm" and Path(argv[0]).exists()
    assert argv[1:] == [
        "--config",
        str(tmp_path / "config.yaml"),
        "--host",
        "127.0.0.1",
        "--port",
        "4100",
    ]
    assert [a for a in c["args"] if a.startswith("--")] == [a for a in argv if a.startswith("--")]


def test_environment_is_the_containers_with_the_token_layout(tmp_path: Path) -> None:
    env = pp.environment(
        SPEC,
        token_file=tmp_path / "access-token",
        token_dir=tmp_path / "github_copilot",
        master_key="sk-local",
    )
    container_names = {e["name"] for e in deployed_container()["env"]}
    assert set(env) == container_names - {"HOME"}  # the user's HOME, not the image's /tmp
    assert env[pp.TOKEN_FILE_ENV] == str(tmp_path / "access-token")
    assert env[pp.TOKEN_DIR_ENV] == str(tmp_path / "github_copilot")
    assert env[render.MASTER_KEY_ENV] == "sk-local"
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert env["GITHUB_COPILOT_API_KEY_URL"] == "https://api.github.com/copilot_internal/v2/token"


def test_github_urls_follow_the_manifest_unless_overridden(tmp_path: Path) -> None:
    def env_of(urls: dict[str, str] | None = None) -> dict[str, str]:
        return pp.environment(
            GHE,
            token_file=tmp_path / "t",
            token_dir=tmp_path / "d",
            master_key="k",
            github_urls=urls,
        )

    env = env_of()
    assert env["GITHUB_COPILOT_API_KEY_URL"] == (
        "https://api.acme.ghe.com/copilot_internal/v2/token"
    )
    fake = rebased_github_urls(GHE, "http://127.0.0.1:9")
    assert fake["GITHUB_COPILOT_DEVICE_CODE_URL"] == "http://127.0.0.1:9/login/device/code"
    env = env_of(fake)
    assert env["GITHUB_COPILOT_API_KEY_URL"] == "http://127.0.0.1:9/copilot_internal/v2/token"
    with pytest.raises(ValueError, match="GITHUB_COPILOT_API_KEY_UR"):
        env_of({"GITHUB_COPILOT_API_KEY_UR": "x"})


def test_wait_ready_probes_the_liveness_path(tmp_path: Path) -> None:
    """Ready once the probe path answers 200 (a stand-in server; LiteLLM's is in test_run)."""
    (tmp_path / "health").mkdir()
    (tmp_path / "health" / "liveliness").write_text("ok")
    port = free_port()
    proc = pp.ProxyProcess(
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        env=dict(os.environ),
        url=pp.local_url("0.0.0.0", port),  # noqa: S104 - a wildcard is probed on loopback
        log_path=tmp_path / "proxy.log",
        cwd=tmp_path,
        probe_path=pp.liveness_path(SPEC),
    )
    assert not proc.is_live()
    proc.start()
    try:
        assert wait_ready(proc, timeout=20) is True
        assert proc.is_live()
    finally:
        assert proc.stop() is not None
    assert proc.exited() is None and proc.pid is None  # stopped and forgotten


def test_a_proxy_that_exits_during_start_up_says_why(tmp_path: Path) -> None:
    proc = pp.ProxyProcess(
        argv=["sh", "-c", "echo 'cannot load config.yaml' >&2; exit 3"],
        env=dict(os.environ),
        url="http://127.0.0.1:9",
        log_path=tmp_path / "proxy.log",
        cwd=tmp_path,
    )
    proc.start()
    with pytest.raises(ProxyExited, match=r"exited with code 3:\ncannot load config.yaml"):
        wait_ready(proc, timeout=20)
    proc.stop()


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    """A proxy that started helpers of its own leaves none of them behind."""
    proc = pp.ProxyProcess(
        argv=["sh", "-c", "sleep 60 & sleep 60 & wait"],
        env=dict(os.environ),
        url="http://127.0.0.1:9",
        log_path=tmp_path / "proxy.log",
        cwd=tmp_path,
    )
    proc.start()
    assert proc.pid is not None
    leader = proc.pid
    deadline = time.monotonic() + 5
    while len(descendants(leader)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    helpers = descendants(leader)
    assert len(helpers) == 2
    proc.stop(grace=5)
    assert wait_gone([leader, *helpers], timeout=5) == []


@pytest.mark.parametrize(
    ("value", "seconds"), [("600", 610.0), ("1", 11.0), (None, 40.0), ("soon", 40.0)]
)
def test_a_proxy_may_drain_for_its_graceful_shutdown_and_teardown(
    value: str | None, seconds: float
) -> None:
    env = {} if value is None else {"GRACEFUL_SHUTDOWN_TIMEOUT": value}
    assert pp.drain_seconds(env) == seconds  # LiteLLM's own default is 30 s


def test_stop_waits_for_a_draining_proxy_and_says_so(tmp_path: Path) -> None:
    """A proxy that takes a while to finish after SIGTERM is waited for, not killed."""
    proc = pp.ProxyProcess(
        argv=["sh", "-c", "trap 'sleep 2; exit 0' TERM; echo ready; while :; do sleep 0.1; done"],
        env={**os.environ, "GRACEFUL_SHUTDOWN_TIMEOUT": "30"},
        url="http://127.0.0.1:9",
        log_path=tmp_path / "proxy.log",
        cwd=tmp_path,
    )
    proc.start()
    deadline = time.monotonic() + 10
    while "ready" not in proc.log_text() and time.monotonic() < deadline:  # the trap is set
        time.sleep(0.02)
    said: list[str] = []
    assert proc.stop(say=said.append) == 0
    assert said == ["The proxy finishes the requests in flight first (at most 40 s)…"]


def test_a_killed_supervisor_takes_the_proxy_with_it(tmp_path: Path) -> None:
    """Even `kill -9` of copilot-proxy leaves no proxy running (Linux: parent-death signal)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("parent-death signal is Linux only")
    script = textwrap.dedent(
        f"""
        import os, sys, time
        from pathlib import Path
        from copilot_proxy.local.proxy_process import ProxyProcess
        p = ProxyProcess(argv=["sleep", "60"], env=dict(os.environ), url="http://127.0.0.1:9",
                         log_path=Path({str(tmp_path / "log")!r}), cwd=Path({str(tmp_path)!r}))
        p.start()
        print(p.pid, flush=True)
        time.sleep(60)
        """
    )
    supervisor = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert supervisor.stdout is not None
    proxy_pid = int(supervisor.stdout.readline())
    assert alive(proxy_pid)
    supervisor.send_signal(signal.SIGKILL)
    supervisor.wait(5)
    assert wait_gone([proxy_pid], timeout=5) == []


def test_state_folder_is_private_and_out_of_git(tmp_path: Path) -> None:
    state = prepare(tmp_path / "state")
    assert oct(state.root.stat().st_mode & 0o777) == "0o700"
    assert (state.root / ".gitignore").read_text().splitlines()[-1] == "*"
    key, new = ensure_master_key(state)
    assert new and key.startswith("sk-") and len(key) == 3 + 48
    assert oct(state.master_key_file.stat().st_mode & 0o777) == "0o600"
    assert ensure_master_key(state) == (key, False)


def test_first_run_text_is_ready_to_paste() -> None:
    spec = parse_spec(
        "copilot", "local", {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}]}
    )
    text = first_run_text(spec, "sk-abc", "http://localhost:4000", Path(".copilot-proxy/mk"))
    assert "export ANTHROPIC_BASE_URL=http://localhost:4000\n" in text  # no /v1
    assert "export ANTHROPIC_AUTH_TOKEN=sk-abc" in text
    # Claude Code's own spelling of the chain's models (no warning in the CLI: see
    # tests/proxy/test_claude_code_cli.py), its haiku slot served by spec.smallModel.
    assert "export ANTHROPIC_MODEL=opus\n" in text
    assert "export ANTHROPIC_DEFAULT_OPUS_MODEL=claude-opus-4-6\n" in text
    assert "export ANTHROPIC_DEFAULT_HAIKU_MODEL=claude-haiku-4-5" in text
    assert "small/fast model: gpt-5-mini" in text
    assert "curl http://localhost:4000/v1/chat/completions \\\n" in text
    assert '-H "Authorization: Bearer sk-abc"' in text
    body = text.split("-d ", 1)[1].splitlines()[0]
    assert json.loads(shlex.split(body)[0])["model"] == "claude-opus-4.6"
