"""pytest fixtures for tests that run the real LiteLLM proxy (see testkit/proxy_harness.py).

A test module sets the CopilotProxy spec its proxy serves by overriding the
module-scoped `proxy_spec` fixture; the proxy starts once per module:

    @pytest.fixture(scope="module")
    def proxy_spec() -> dict[str, Any]:
        return {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}]}

    def test_x(proxy: LiteLLMProxy, upstream: FakeGitHub) -> None: ...

- `proxy_upstream` (module): the FakeGitHub this module's proxy talks to.
- `proxy_env` (module): extra environment for the proxy process (default none).
- `proxy` (module): the running `LiteLLMProxy`.
- `upstream` (function): `proxy_upstream` after `reset()`: no switches, no
  records; accounts and issued Copilot keys kept, so the proxy keeps its key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy

DEFAULT_SPEC: dict[str, Any] = {
    "models": [
        {"name": "claude-opus-4.6"},
        {"name": "gemini-3-pro-preview"},
        {"name": "gpt-5-mini"},
    ]
}


@pytest.fixture(scope="module")
def proxy_spec() -> dict[str, Any]:
    return DEFAULT_SPEC


@pytest.fixture(scope="module")
def proxy_env() -> dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def proxy_upstream() -> Iterator[FakeGitHub]:
    with FakeGitHub() as gh:
        yield gh


@pytest.fixture(scope="module")
def proxy(
    proxy_spec: dict[str, Any], proxy_upstream: FakeGitHub, proxy_env: dict[str, str]
) -> Iterator[LiteLLMProxy]:
    with LiteLLMProxy(
        proxy_spec,
        upstream=proxy_upstream.url,
        token=proxy_upstream.default_token,
        extra_env=proxy_env,
    ) as running:
        yield running


@pytest.fixture
def upstream(proxy_upstream: FakeGitHub) -> FakeGitHub:
    proxy_upstream.reset()
    return proxy_upstream
