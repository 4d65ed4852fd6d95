"""Copilot's limits as Copilot states them, and the one answer when nothing can answer.

One real `litellm` proxy for the module (rendered with the catalogue, so it knows the
quota reset date; LiteLLM's prometheus callback on for /metrics). Cooldowns live as long
as the proxy, so each test uses a route of its own models.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest

from copilot_proxy.core.render import render_config
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.operator.catalogue import github_reader
from testkit import claude_code
from testkit.fake_github import FakeGitHub
from testkit.fake_github.catalog import next_month
from testkit.proxy_harness import LiteLLMProxy
from testkit.waiting import wait_for_sync

ROUTES = {
    "weekly": ["claude-opus-4.5", "gpt-4.1"],
    "brief": ["claude-sonnet-4", "gpt-5"],
    "monthly": ["claude-haiku-4.5", "gemini-2.5-pro"],
    "exhausted": ["claude-sonnet-4.5", "gpt-4o"],
    "first": ["claude-opus-4.1", "gemini-3-pro-preview"],
}
SPEC: dict[str, Any] = {
    "models": [
        {"name": m} for m in ["claude-opus-4.6", *sorted({m for r in ROUTES.values() for m in r})]
    ],
    "routes": [{"name": n, "models": m} for n, m in ROUTES.items()],
    "litellm": {"litellm_settings": {"callbacks": ["prometheus"]}},
}
HI: Any = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def proxy(proxy_upstream: FakeGitHub) -> Iterator[LiteLLMProxy]:
    gh = proxy_upstream
    spec = parse_spec("test", "default", SPEC)
    catalogue = github_reader(gh.env())(spec, gh.default_token, "2026-12-01T00:00:00Z")
    config = render_config(spec, catalogue)
    with LiteLLMProxy(spec, upstream=gh.url, token=gh.default_token, config=config) as running:
        yield running


class Attempts:
    """An HTTP client that counts the requests an SDK sends (its retries included); the
    anthropic SDK runs on httpx2, the openai SDK on httpx."""

    def __init__(self, http: Any = httpx) -> None:
        self.count = 0
        self.client = http.Client(event_hooks={"request": [self.seen]}, timeout=60)

    def seen(self, _: object) -> None:
        self.count += 1


def _exhaust(proxy: LiteLLMProxy) -> None:
    """The request that finds every model of `exhausted` out (or already cooling)."""
    oai = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=proxy.master_key, max_retries=0)
    with pytest.raises(openai.APIStatusError):
        oai.chat.completions.create(model="exhausted", messages=HI)


def _served(proxy: LiteLLMProxy, asked: str) -> list[str]:
    return re.findall(rf"asked={re.escape(asked)} .*", proxy.log_text())


def _cooldown(proxy: LiteLLMProxy, model: str) -> str:
    """The log line of the model's cooldown."""
    lines = lambda: re.findall(rf"cooldown: model={re.escape(model)} .*", proxy.log_text())  # noqa: E731
    return str(wait_for_sync(lines, message=f"cooldown of {model}")[-1])


def test_a_weekly_limit_cools_the_model_down_for_as_long_as_copilot_says(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    oai = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=proxy.master_key, max_retries=0)
    upstream.fail("claude-opus-4.5", 429, code="user_weekly_rate_limited", retry_after=51 * 3600)
    raw = oai.chat.completions.with_raw_response.create(model="weekly", messages=HI)
    assert raw.headers["x-litellm-model-group"] == "gpt-4.1"
    line = _cooldown(proxy, "claude-opus-4.5")
    assert "reason=user_weekly_rate_limited seconds=183600 until=" in line
    upstream.reset()  # Copilot would answer again; the proxy still believes Copilot's 51 h
    oai.chat.completions.create(model="weekly", messages=HI)
    assert upstream.models_tried() == ["gpt-4.1"]
    metrics = httpx.get(f"{proxy.url}/metrics/", headers=proxy.auth_headers).text
    left = re.search(
        r'copilot_proxy_model_cooldown_seconds\{model="claude-opus-4.5",'
        r'reason="user_weekly_rate_limited"\} (\S+)',
        metrics,
    )
    assert left is not None and 183000 < float(left.group(1)) <= 183600


def test_a_retry_after_header_cools_down_for_exactly_that_long(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    claude = anthropic.Anthropic(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)
    upstream.fail("claude-sonnet-4", 429, times=1, retry_after=2)  # rate_limited, Retry-After: 2
    claude.messages.create(model="brief", max_tokens=20, messages=HI)
    cooled = time.monotonic()  # at the latest
    assert "reason=rate_limited seconds=2 " in _cooldown(proxy, "claude-sonnet-4")
    claude.messages.create(model="brief", max_tokens=20, messages=HI)
    assert upstream.models_tried() == ["claude-sonnet-4", "gpt-5", "gpt-5"]
    time.sleep(max(0.0, cooled + 2.2 - time.monotonic()))
    raw = claude.messages.with_raw_response.create(model="brief", max_tokens=20, messages=HI)
    assert raw.headers["x-litellm-model-group"] == "brief"  # claude-sonnet-4 again


def test_a_spent_quota_waits_for_the_accounts_reset_date(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    oai = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=proxy.master_key, max_retries=0)
    upstream.fail("claude-haiku-4.5", 402)  # no Retry-After: Copilot says nothing
    oai.chat.completions.create(model="monthly", messages=HI)
    line = _cooldown(proxy, "claude-haiku-4.5")
    assert "reason=quota_exceeded" in line and f"until={next_month()}T00:00:00Z" in line


def test_the_first_request_that_exhausts_the_chain_is_not_retried(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    upstream.fail("claude-opus-4.1", 402)
    upstream.fail("gemini-3-pro-preview", 429, code="user_global_rate_limited", retry_after=2733)
    sent = Attempts(httpx2)
    claude = anthropic.Anthropic(
        base_url=proxy.url, api_key=proxy.master_key, http_client=sent.client
    )
    with pytest.raises(anthropic.APIStatusError) as failed:
        claude.messages.create(model="first", max_tokens=20, messages=HI)
    assert (failed.value.status_code, sent.count) == (402, 1)
    text = failed.value.message
    assert "claude-opus-4.1: quota spent (quota_exceeded), back in " in text
    session = "session rate limit reached (user_global_rate_limited), back in 46 min"
    assert f"gemini-3-pro-preview: {session}" in text


def test_when_nothing_can_answer_each_client_gets_one_immediate_answer(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    upstream.fail("claude-sonnet-4.5", 429, code="user_weekly_rate_limited", retry_after=51 * 3600)
    upstream.fail("gpt-4o", 402)
    _exhaust(proxy)
    upstream.reset()
    # The SDKs with their default retries (2): one attempt each, well under a second.
    sent = Attempts()
    oai = openai.OpenAI(
        base_url=f"{proxy.url}/v1", api_key=proxy.master_key, http_client=sent.client
    )
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as failed:
        oai.chat.completions.create(model="exhausted", messages=HI)
    oai_seconds = time.monotonic() - started
    assert (failed.value.status_code, sent.count) == (402, 1)
    assert failed.value.response.headers["x-should-retry"] == "false"
    # When the first model is back: the weekly limit (the quota waits for next month).
    assert 183000 < int(failed.value.response.headers["retry-after"]) <= 183600
    sent = Attempts(httpx2)
    claude = anthropic.Anthropic(
        base_url=proxy.url, api_key=proxy.master_key, http_client=sent.client
    )
    started = time.monotonic()
    with pytest.raises(anthropic.APIStatusError) as refused:
        claude.messages.create(model="exhausted", max_tokens=20, messages=HI)
    claude_seconds = time.monotonic() - started
    assert (refused.value.status_code, sent.count) == (402, 1)
    message = refused.value.message
    assert "No model can answer 'exhausted' now." in message
    # 51 h less the seconds since: "2 d 3 h", or "2 d 2 h" once a second has passed.
    assert re.search(
        r"claude-sonnet-4\.5: weekly rate limit reached \(user_weekly_rate_limited\), "
        r"back in 2 d [23] h \(at ",
        message,
    ), message
    assert "gpt-4o: quota spent (quota_exceeded), back in " in message
    assert oai_seconds < 1.0 and claude_seconds < 1.0, (oai_seconds, claude_seconds)
    assert upstream.copilot_requests() == []
    out = subprocess.run(
        ["curl", "-sS", "-D", "-", f"{proxy.url}/v1/chat/completions",
         "-H", f"Authorization: Bearer {proxy.master_key}", "-H", "Content-Type: application/json",
         "-d", json.dumps({"model": "exhausted", "messages": HI})],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    head, _, body = out.partition("\n\n")  # text=True made \r\n \n
    assert head.startswith("HTTP/1.1 402") and "x-should-retry: false" in head.lower()
    assert json.loads(body)["error"]["type"] == "models_unavailable"


@pytest.mark.skipif(claude_code.binary() is None, reason="Claude Code CLI not installed (make npm)")
def test_claude_code_shows_the_error_at_once(
    proxy: LiteLLMProxy, upstream: FakeGitHub, tmp_path: Path
) -> None:
    """The real CLI, whose retries of 429 and 5xx take minutes: one request, error shown."""
    upstream.fail("claude-sonnet-4.5", 429, code="user_weekly_rate_limited", retry_after=51 * 3600)
    upstream.fail("gpt-4o", 402)
    _exhaust(proxy)
    before = len(_served(proxy, "exhausted"))
    cli, started = claude_code.binary(), time.monotonic()
    assert cli is not None
    model = {"ANTHROPIC_MODEL": "exhausted", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    run = claude_code.run_print(
        cli, "Say hi", proxy.url, proxy.master_key, cwd=tmp_path, env=model, timeout=60
    )
    seconds = time.monotonic() - started
    assert run.returncode != 0, run
    assert "No model can answer 'exhausted' now." in run.stdout + run.stderr
    assert seconds < 10, seconds
    assert len(_served(proxy, "exhausted")) - before == 1  # never retried
