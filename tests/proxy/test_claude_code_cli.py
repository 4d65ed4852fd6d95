"""The real Claude Code CLI through the rendered proxy: what one prompt costs, and its settings.

One prompt that makes one tool call is one human turn: exactly one upstream
request may be billed as `user` (a premium request), however many requests
Claude Code makes for it (the tool-result follow-up, the session title). The
Bash tool really runs and leaves a file. The settings the README and the start
banner give (core/claude_code.client_settings) make the CLI warn about nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from copilot_proxy.core.claude_code import client_settings
from copilot_proxy.local.state import first_run_text
from testkit.claude_code import PROMPT_MARK, ROOT, Interactive, binary, run_print
from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy

pytestmark = pytest.mark.slow

PROMPT = "Use Bash to leave a marker file."
MARKER = {"command": "echo ran > marker.txt", "description": "Leave a marker file"}
WARNINGS = ("⚠", "retired", "recognize", "Warning")


@pytest.fixture(scope="module")
def cli() -> Path:
    found = binary()
    if found is None:
        message = "Claude Code CLI missing: run `make npm` (or set CLAUDE_CODE_BIN)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def settings(proxy: LiteLLMProxy) -> dict[str, str]:
    return dict(client_settings(proxy.spec))


def _wait_for_bills(upstream: FakeGitHub, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(upstream.bills) < count and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.parametrize("configured", [False, True], ids=["defaults", "readme-settings"])
def test_a_prompt_with_a_tool_call_costs_one_premium_request(
    cli: Path,
    proxy: LiteLLMProxy,
    upstream: FakeGitHub,
    settings: dict[str, str],
    tmp_path: Path,
    configured: bool,
) -> None:
    upstream.tool_args["Bash"] = MARKER
    env = settings if configured else {}
    run = run_print(cli, PROMPT, proxy.url, proxy.master_key, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "marker.txt").read_text() == "ran\n", "the tool really ran"
    assert "Hello from claude-opus-4.6." in run.stdout
    bills = upstream.bills
    assert [(b.model, b.initiator) for b in bills] == [
        ("claude-opus-4.6", "user"),  # the human turn
        ("claude-opus-4.6", "agent"),  # the tool result goes back: the same turn
    ]
    assert upstream.premium_requests() == 1
    # The log line says what each request cost, as Copilot's answer did.
    line = proxy.request_log_line(f"credits={bills[1].nano_aiu / 1e9:.4f}")
    assert "initiator=agent" in line


def _exports(text: str) -> dict[str, str]:
    """The model settings among a text's `export NAME=value` lines."""
    found = dict(re.findall(r"^\s*export (\w+)=(\S+)", text, re.M))
    connection = ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN")
    return {k: v for k, v in found.items() if k not in connection}


@pytest.mark.parametrize("source", ["readme", "banner"])
def test_the_settings_users_are_given_make_claude_code_warn_about_nothing(
    cli: Path, proxy: LiteLLMProxy, upstream: FakeGitHub, tmp_path: Path, source: str
) -> None:
    if source == "readme":
        text = (ROOT / "README.md").read_text().split("Claude Code (the start banner", 1)[1]
    else:
        text = first_run_text(proxy.spec, proxy.master_key, proxy.url, tmp_path / "key")
    settings = _exports(text)
    assert set(settings) >= {"ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL"}
    run = run_print(cli, "Say hello.", proxy.url, proxy.master_key, cwd=tmp_path, env=settings)
    assert run.returncode == 0
    assert not [w for w in WARNINGS if w in run.stdout + run.stderr], run.stdout + run.stderr
    # Claude Code asks for its spelling of the chain's primary; that model answers.
    assert upstream.models_tried() == ["claude-opus-4.6"]
    assert proxy.request_log_line("asked=claude-opus-4-6 ")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux drives the interactive UI")
def test_an_interactive_prompt_costs_one_premium_request_title_included(
    cli: Path,
    proxy: LiteLLMProxy,
    upstream: FakeGitHub,
    settings: dict[str, str],
    tmp_path: Path,
) -> None:
    upstream.tool_args["Bash"] = MARKER
    with Interactive(cli, proxy.url, proxy.master_key, cwd=tmp_path, env=settings) as ui:
        start = ui.wait_for(PROMPT_MARK)
        assert not [w for w in WARNINGS if w in start], start
        ui.send(PROMPT)
        ui.wait_for("Hello from claude-opus-4.6")
        _wait_for_bills(upstream, 3)
    assert (tmp_path / "marker.txt").read_text() == "ran\n"
    sent = upstream.copilot_requests()
    titles = [r for r in sent if not r.body.get("tools")]
    turns = [r for r in sent if r.body.get("tools")]
    # The title request (once per session) goes to spec.smallModel and is the agent's.
    assert [(r.model, r.initiator) for r in titles] == [("gpt-5-mini", "agent")]
    assert [(r.model, r.initiator) for r in turns] == [
        ("claude-opus-4.6", "user"),
        ("claude-opus-4.6", "agent"),
    ]
    assert len(upstream.bills) == 3 and upstream.premium_requests() == 1
