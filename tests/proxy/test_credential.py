"""The proxy's GitHub credential, whatever mints it: a token file replaced in place is used at
the next key exchange, and a credential GitHub refuses gives clients one clear error.

One real proxy for the module, against the fake GitHub of main (no App needed: the token
file is what the operator or the local mode writes, an App's installation token included).
"""

from __future__ import annotations

import os
import stat
import threading
import time
from typing import Any

import httpx
import pytest

from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy

POLICY = "Copilot requests from GitHub App installations are disabled by the organization policy"


@pytest.fixture(scope="module")
def proxy_spec() -> dict[str, Any]:
    return {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}]}


def replace_token(proxy: LiteLLMProxy, token: str) -> None:
    """What kubelet does to a Secret volume, and the local mode to its token file: a new
    file renamed over the old one (the proxy never sees a half-written token)."""
    folder = proxy.token_file.parent
    folder.chmod(stat.S_IRWXU)
    part = folder / ".token.part"
    part.write_text(token)
    os.replace(part, proxy.token_file)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)


def exchanged_with(gh: FakeGitHub) -> list[str]:
    """The GitHub tokens the key exchanges carried, in order."""
    return [
        r.headers.get("authorization", "").partition(" ")[2]
        for r in gh.requests
        if r.path == "/copilot_internal/v2/token"
    ]


def chat(proxy: LiteLLMProxy, model: str = "claude-opus-4.6", **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
    return httpx.post(
        f"{proxy.url}/v1/chat/completions", json=body, headers=proxy.auth_headers, timeout=30
    )


def test_a_replaced_token_file_is_used_at_the_next_key_exchange(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    assert chat(proxy).status_code == 200
    rotated = upstream.add_account(login="octo-rotated")
    replace_token(proxy, rotated)
    upstream.expire_keys()  # the old key would fail: the answer comes with the new one
    answer = chat(proxy, "gpt-5-mini")  # the chain's last model: no fallback to hide a 401
    assert answer.status_code == 200, answer.text
    # The cached Copilot key came from the old file: a new key is fetched with the new token.
    assert exchanged_with(upstream)[-1:] == [rotated]
    before = len(exchanged_with(upstream))
    assert chat(proxy).status_code == 200
    assert len(exchanged_with(upstream)) == before  # the new key is kept while the file stays


def test_a_refused_credential_is_one_503_that_no_client_retries(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    replace_token(proxy, upstream.add_account(login="octo-policy"))  # no key for this one yet
    upstream.fail_token_exchange(403, POLICY)
    answer = chat(proxy)
    assert answer.status_code == 503, answer.text
    assert answer.headers.get("x-should-retry") == "false"
    text = answer.json()["error"]["message"]
    assert "GitHub refused this proxy's GitHub credential (403: " + POLICY in text
    assert "kubectl describe cpx test -n default" in text
    assert upstream.models_tried() == []  # no model was tried: they share the credential
    calls = len(exchanged_with(upstream))
    assert calls == 1  # asked once, not three times

    messages = httpx.post(
        f"{proxy.url}/v1/messages",
        json={
            "model": "claude-opus-4.6",
            "max_tokens": 20,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers={"x-api-key": proxy.master_key, "anthropic-version": "2023-06-01"},
        timeout=30,
    )
    assert messages.status_code == 503, messages.text
    assert messages.headers.get("x-should-retry") == "false"
    assert POLICY in messages.text
    assert len(exchanged_with(upstream)) == calls  # the refusal stands without asking again

    upstream.fail_token_exchange(None)  # the admin turns the policy back on
    replace_token(proxy, upstream.add_account(login="octo-policy-2"))
    assert chat(proxy).status_code == 200


def test_a_revoked_token_waits_for_its_replacement(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    """After a 401 at the key exchange the request waits (up to 3 s) for a new token file."""
    revoked = upstream.add_account(login="octo-revoked")
    replace_token(proxy, revoked)
    upstream.fail_token_exchange(401, "Bad credentials")
    began = time.monotonic()
    refused = chat(proxy)
    assert refused.status_code == 503 and "401: Bad credentials" in refused.text
    assert time.monotonic() - began >= 2.5  # it waited for a new token first
    assert revoked not in refused.text

    def rotate_soon() -> None:
        time.sleep(1.0)
        upstream.fail_token_exchange(None)
        replace_token(proxy, upstream.add_account(login="octo-renewed"))

    rotation = threading.Thread(target=rotate_soon)
    rotation.start()
    answer = chat(proxy)
    rotation.join()
    assert answer.status_code == 200, answer.text
