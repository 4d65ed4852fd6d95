"""Port 4000 before sign-in or after a crash: each client shows the user what to do, at once."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from copilot_proxy.local.idle import Reason
from copilot_proxy.local.placeholder import Placeholder, answer
from testkit.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "http://localhost:4001/github"
NOT_SIGNED_IN = Reason(
    "not_signed_in", f"copilot-proxy is not signed in to GitHub: open {LOGIN} and sign in."
)


@pytest.fixture
def placeholder() -> Iterator[Placeholder]:
    port = free_port()
    server = Placeholder("127.0.0.1", port)
    assert server.hold()
    server.say(NOT_SIGNED_IN)
    yield server
    server.release()


def url(server: Placeholder) -> str:
    return f"http://127.0.0.1:{server.port}"


def test_each_api_gets_its_own_error_shape() -> None:
    status, headers, body = answer("/v1/messages?beta=true", NOT_SIGNED_IN)
    assert status == 503 and headers["x-should-retry"] == "false"
    assert httpx.Response(200, content=body).json() == {
        "type": "error",
        "error": {"type": "api_error", "message": NOT_SIGNED_IN.message},
    }
    _, _, body = answer("/v1/chat/completions", NOT_SIGNED_IN)
    error = httpx.Response(200, content=body).json()["error"]
    assert error["message"] == NOT_SIGNED_IN.message and error["code"] == "not_signed_in"
    assert {"message", "type", "code"} <= set(error)
    # What resolves by itself soon may be retried; it says when.
    _, headers, _ = answer("/", Reason("starting", "The proxy is starting.", retry=True))
    assert "x-should-retry" not in headers and headers["retry-after"] == "5"


def test_the_openai_sdk_shows_the_message_without_retrying(placeholder: Placeholder) -> None:
    client = openai.OpenAI(base_url=url(placeholder) + "/v1", api_key="sk-any")
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(
            model="claude-opus-4.6", messages=[{"role": "user", "content": "Hello"}], stream=True
        )
    assert raised.value.status_code == 503
    assert LOGIN in str(raised.value)
    assert placeholder.answered == 1  # the SDK's 2 default retries were not spent


def test_the_anthropic_sdk_shows_the_message_without_retrying(placeholder: Placeholder) -> None:
    client = anthropic.Anthropic(base_url=url(placeholder), api_key="sk-any")
    with pytest.raises(anthropic.APIStatusError) as raised:
        client.messages.create(
            model="claude-opus-4.6",
            max_tokens=256,
            messages=[{"role": "user", "content": "Hello"}],
        )
    assert raised.value.status_code == 503
    assert NOT_SIGNED_IN.message in str(raised.value)
    assert placeholder.answered == 1


def test_curl_shows_the_message(placeholder: Placeholder) -> None:
    shown = subprocess.run(
        ["curl", "-sS", url(placeholder) + "/v1/chat/completions", "-d", '{"model": "x"}'],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert NOT_SIGNED_IN.message in shown.stdout


def test_a_large_or_chunked_body_still_gets_the_answer(placeholder: Placeholder) -> None:
    big = b"x" * (8 * 1024 * 1024)  # an unread body would make the answer a reset
    assert httpx.post(url(placeholder) + "/v1/messages", content=big, timeout=30).status_code == 503

    def chunks() -> Iterator[bytes]:
        yield from (b"y" * 70_000 for _ in range(20))

    sent = httpx.post(url(placeholder) + "/v1/responses", content=chunks(), timeout=30)
    assert sent.status_code == 503 and sent.json()["error"]["code"] == "not_signed_in"
    assert httpx.head(url(placeholder) + "/", timeout=5).status_code == 503


def test_release_frees_the_port_and_hold_takes_it_back(placeholder: Placeholder) -> None:
    placeholder.release()
    with socket.create_server(("127.0.0.1", placeholder.port)):  # LiteLLM could bind it now
        assert placeholder.hold() is False  # ...and while it does, the placeholder waits
    assert placeholder.hold()
    placeholder.say(Reason("crashing", "The proxy is crashing: Exception: boom"))
    assert httpx.get(url(placeholder) + "/v1/models").json()["error"]["code"] == "crashing"


def claude_cli() -> str | None:
    """The Claude Code CLI `make npm` installs (npm/package-lock.json pins it)."""
    found = ROOT / "npm" / "node_modules" / ".bin" / "claude"
    return str(found) if found.exists() else shutil.which("claude")


@pytest.mark.skipif(claude_cli() is None, reason="no Claude Code CLI: `make npm` installs it")
def test_claude_code_shows_the_message_and_gives_up(
    placeholder: Placeholder, tmp_path: Path
) -> None:
    cli = claude_cli()
    assert cli is not None
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),  # no settings or login of the developer's
        "ANTHROPIC_BASE_URL": url(placeholder),
        "ANTHROPIC_AUTH_TOKEN": "sk-any",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    shown = subprocess.run(
        [cli, "-p", "Hello"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 1
    assert "API Error: 503 " + NOT_SIGNED_IN.message in shown.stdout + shown.stderr
    assert placeholder.answered == 1  # Claude Code's 10 retries were not spent
