"""The README's first command, literally: `make run` from a clean clone's root, no arguments.

What a newcomer does: clone, `make run`, call port 4000 too early (503: sign in,
at this URL), unlock the login page with the key the console printed, sign in,
then use the proxy with the openai SDK (chat, streamed), the anthropic SDK
(messages, streamed, with `thinking` and tools as Claude Code sends them) and
/v1/responses; Ctrl-C in the terminal leaves no process behind.

The only differences from a newcomer's machine: GitHub and Copilot are the fake
(their URLs in the environment, as docs/local.md documents), and the clone's
`.venv` is a link to this checkout's, so the test does not spend two minutes
installing it again (the clone's Makefile sees an up-to-date venv and runs
`copilot-proxy` from it). The ports are the defaults, 4000 and 4001: that is
the point.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from testkit.fake_github import FakeGitHub
from tests.local.helpers import LocalRun, descendants, listening, sign_in, wait_gone
from tests.proxy.test_clients import _claude_code_turn

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PROXY, LOGIN = 4000, 4001
PRIMARY = "claude-opus-4.6"  # examples/copilotproxy.yaml's first model
CLAUDE_CODE_MODEL = "claude-opus-5-5"  # what Claude Code 2.1.332 asks for by default


def clean_clone(into: Path) -> Path:
    """The checkout as `git clone` gives it: every file git tracks or would track (with
    uncommitted edits), nothing it ignores (.venv, .cache, .copilot-proxy)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def share_venv(clone: Path) -> None:
    """The clone's .venv is this checkout's, and make must see it as up to date."""
    (clone / ".venv").symlink_to(ROOT / ".venv")
    installed = (ROOT / ".venv" / ".installed").stat().st_mtime
    for wanted in ("requirements/dev.txt", "pyproject.toml"):
        os.utime(clone / wanted, (installed - 1, installed - 1))


def newcomer_env(gh: FakeGitHub) -> dict[str, str]:
    """A shell's environment, with only GitHub's and Copilot's URLs on the fake."""
    drop = ("GITHUB_", "LITELLM_", "MAKE", "MFLAGS", "COPILOT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **gh.env()}


@pytest.fixture
def default_ports_free() -> None:
    for port, what in ((PROXY, "the proxy"), (LOGIN, "the login page")):
        if listening(port):
            pytest.fail(
                f"port {port} ({what}) is in use: this test runs `make run` on the README's "
                "default ports 4000 and 4001; stop what listens there and run it again"
            )


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    root = clean_clone(tmp_path / "copilot-proxy")
    share_venv(root)
    yield root


def test_make_run_from_a_clean_clone_serves_after_sign_in(
    default_ports_free: None, clone: Path, fake_github: FakeGitHub
) -> None:
    gh = fake_github
    gh.reset()
    gh.device_interval = 0
    run = LocalRun(
        None,
        None,
        proxy_port=PROXY,
        auth_port=LOGIN,
        env=newcomer_env(gh),
        command=["make", "run"],
        cwd=clone,
    )
    try:
        at = run.wait_for(r"Not signed in to GitHub yet: open http://localhost:4001/github")
        key = run.lines[run.wait_for(r"New master key \(shown only now") + 1].strip()
        assert (clone / ".copilot-proxy" / "master-key").read_text().strip() == key
        too_early(key)

        signed_in = time.monotonic()
        sign_in(gh, LOGIN, key, login="octocat")
        at = run.wait_for(r"Proxy ready: http://localhost:4000 ", after=at, timeout=120)
        chat = openai.OpenAI(base_url="http://localhost:4000/v1", api_key=key, max_retries=0)
        first = "".join(
            chunk.choices[0].delta.content or ""
            for chunk in chat.chat.completions.create(
                model=PRIMARY, messages=[{"role": "user", "content": "Hello"}], stream=True
            )
            if chunk.choices
        )
        print(f"sign-in to first answer: {time.monotonic() - signed_in:.1f} s")
        assert first.startswith(f"Hello from {PRIMARY}")

        claude_code_turn(key)
        answer = chat.responses.create(model=PRIMARY, input="Hello")
        assert answer.output_text.startswith(f"Hello from {PRIMARY}")
        run.wait_for(r"request: route=/v1/responses ", after=at)
        assert not (clone / "proxy.log").exists()  # the state stays in .copilot-proxy/

        # Ctrl-C in the terminal: make, copilot-proxy and LiteLLM all end.
        running = [run.proc.pid, *descendants(run.proc.pid)]
        assert len(running) >= 3, running
        run.interrupt_group()
        assert wait_gone(running) == []
        assert "Stopped." in run.output
        assert not listening(PROXY) and not listening(LOGIN)
    finally:
        run.kill()


def too_early(key: str) -> None:
    """Before sign-in, port 4000 tells each client to sign in, and where."""
    hint = "not signed in to GitHub: open http://localhost:4001/github"
    chat = openai.OpenAI(base_url="http://localhost:4000/v1", api_key=key)
    with pytest.raises(openai.APIStatusError) as refused:
        chat.chat.completions.create(model=PRIMARY, messages=[{"role": "user", "content": "Hi"}])
    assert refused.value.status_code == 503 and hint in str(refused.value)
    claude = anthropic.Anthropic(base_url="http://localhost:4000", api_key=key)
    with pytest.raises(anthropic.APIStatusError) as turned_away:
        claude.messages.create(
            model=PRIMARY, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert turned_away.value.status_code == 503 and hint in str(turned_away.value)
    shown = httpx.get("http://localhost:4000/v1/models").json()["error"]
    assert shown["code"] == "not_signed_in"


def claude_code_turn(key: str) -> None:
    """One turn as Claude Code sends it (streamed, thinking, cached system prompt, its tools),
    the request tests/proxy/test_clients.py checks field by field."""
    client = anthropic.Anthropic(base_url="http://localhost:4000", api_key=key, max_retries=0)
    text, headers = _claude_code_turn(client, CLAUDE_CODE_MODEL)
    assert text == f"Hello from {PRIMARY}."
    assert headers["x-litellm-model-name"] == f"github_copilot/{PRIMARY}"
