"""The fake GitHub speaks the protocol its clients rely on (fast, no proxy involved)."""

from __future__ import annotations

import itertools
import time
from urllib.parse import parse_qs

import httpx
import pytest

from testkit.fake_github import DEFAULT_CLIENT_ID, FakeGitHub

JSON = {"accept": "application/json"}
GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _start(gh: FakeGitHub) -> dict[str, object]:
    r = httpx.post(
        f"{gh.url}/login/device/code",
        data={"client_id": DEFAULT_CLIENT_ID, "scope": "read:user"},
        headers=JSON,
    )
    r.raise_for_status()
    return dict(r.json())


def _poll(gh: FakeGitHub, device_code: object) -> dict[str, object]:
    r = httpx.post(
        f"{gh.url}/login/oauth/access_token",
        data={"client_id": DEFAULT_CLIENT_ID, "device_code": device_code, "grant_type": GRANT},
        headers=JSON,
    )
    assert r.status_code == 200  # github.com answers OAuth errors with 200 too
    return dict(r.json())


def _key(gh: FakeGitHub, token: str) -> httpx.Response:
    return httpx.get(
        f"{gh.url}/copilot_internal/v2/token", headers={"authorization": f"token {token}"}
    )


def test_device_flow_follows_its_script_then_the_token_works(fake_github: FakeGitHub) -> None:
    fake_github.device_script = ["pending", "slow_down", "ok"]
    code = _start(fake_github)
    assert code["verification_uri"] == f"{fake_github.url}/login/device"
    assert str(code["user_code"])[4] == "-"
    first = _poll(fake_github, code["device_code"])
    assert first["error"] == "authorization_pending"
    slow = _poll(fake_github, code["device_code"])
    assert slow["error"] == "slow_down"
    assert slow["interval"] == int(str(code["interval"])) + 5
    done = _poll(fake_github, code["device_code"])
    token = str(done["access_token"])
    assert done["token_type"] == "bearer"
    assert _key(fake_github, token).status_code == 200


def test_approve_and_deny_through_the_api(fake_github: FakeGitHub) -> None:
    a, b = _start(fake_github), _start(fake_github)
    assert _poll(fake_github, a["device_code"])["error"] == "authorization_pending"
    token = fake_github.approve(str(a["user_code"]), login="mona")
    fake_github.deny(str(b["user_code"]))
    assert _poll(fake_github, a["device_code"])["access_token"] == token
    assert _poll(fake_github, b["device_code"])["error"] == "access_denied"
    user = httpx.get(f"{fake_github.url}/user", headers={"authorization": f"token {token}"})
    assert user.json()["login"] == "mona"


def test_expired_code_and_bad_client(fake_github: FakeGitHub) -> None:
    code = _start(fake_github)
    fake_github.expire(str(code["user_code"]))
    assert _poll(fake_github, code["device_code"])["error"] == "expired_token"
    r = httpx.post(
        f"{fake_github.url}/login/oauth/access_token",
        data={"client_id": "Iv1.nope", "device_code": code["device_code"], "grant_type": GRANT},
        headers=JSON,
    )
    assert r.json()["error"] == "incorrect_client_credentials"


def test_answers_form_encoded_without_accept_json(fake_github: FakeGitHub) -> None:
    # LiteLLM sends JSON bodies; the auth service may send forms. Both are accepted.
    r = httpx.post(
        f"{fake_github.url}/login/device/code",
        json={"client_id": DEFAULT_CLIENT_ID, "scope": "read:user"},
    )
    assert r.headers["content-type"].startswith("application/x-www-form-urlencoded")
    fields = parse_qs(r.text)
    assert fields["user_code"][0] == fake_github.last_device().user_code


def test_browser_page_approves_a_code(fake_github: FakeGitHub) -> None:
    code = _start(fake_github)
    page = httpx.post(
        f"{fake_github.url}/login/device",
        data={"user_code": str(code["user_code"]).lower(), "action": "authorize"},
    )
    assert "all set" in page.text
    assert "access_token" in _poll(fake_github, code["device_code"])


@pytest.mark.parametrize(
    ("copilot", "status", "words"),
    [
        ("no_access", 403, "do not have access"),
        ("suspended", 403, "suspended"),
        ("not_found", 404, "Not Found"),
    ],
)
def test_token_exchange_refuses_accounts_without_copilot(
    fake_github: FakeGitHub, copilot: str, status: int, words: str
) -> None:
    token = fake_github.add_account(login="nocopilot", copilot=copilot)
    r = _key(fake_github, token)
    assert r.status_code == status
    assert words in r.json()["message"]


def test_token_exchange_switches_and_counts(fake_github: FakeGitHub) -> None:
    assert _key(fake_github, "gho_unknown").status_code == 401
    fake_github.fail_token_exchange(500)
    assert _key(fake_github, fake_github.default_token).status_code == 500
    fake_github.fail_token_exchange(None)
    ok = _key(fake_github, fake_github.default_token).json()
    assert ok["endpoints"]["api"] == fake_github.url
    assert ok["expires_at"] > time.time()
    assert fake_github.token_calls == 3


def test_copilot_key_expiry_gives_401(fake_github: FakeGitHub) -> None:
    fake_github.key_ttl = 0
    key = _key(fake_github, fake_github.default_token).json()["token"]
    r = httpx.post(
        f"{fake_github.url}/chat/completions",
        json={"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {key}", "editor-version": "vscode/1.95.0"},
    )
    assert r.status_code == 401
    assert "expired" in r.text


def test_copilot_wants_the_editor_headers(fake_github: FakeGitHub) -> None:
    key = _key(fake_github, fake_github.default_token).json()["token"]
    r = httpx.post(
        f"{fake_github.url}/chat/completions",
        json={"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {key}"},
    )
    assert r.status_code == 400
    assert "Editor-Version" in r.text


def test_model_switches_and_records(fake_github: FakeGitHub) -> None:
    key = _key(fake_github, fake_github.default_token).json()["token"]
    auth = {"authorization": f"Bearer {key}", "editor-version": "vscode/1.95.0"}

    def ask(model: str) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        return httpx.post(f"{fake_github.url}/chat/completions", json=body, headers=auth)

    fake_github.fail("gpt-5-mini", 402, times=1)
    quota = ask("gpt-5-mini")
    assert quota.status_code == 402
    assert quota.json()["error"]["code"] == "quota_exceeded"
    assert ask("gpt-5-mini").json()["choices"][0]["message"]["content"] == "Hello from gpt-5-mini."
    unknown = ask("no-such-model")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "model_not_supported")
    fake_github.fail("gpt-4.1", 429)
    limited = ask("gpt-4.1")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "60")
    assert fake_github.models_tried() == ["gpt-5-mini", "gpt-5-mini", "no-such-model", "gpt-4.1"]


def test_stream_drops_mid_way(fake_github: FakeGitHub) -> None:
    key = _key(fake_github, fake_github.default_token).json()["token"]
    fake_github.drop_stream("claude-sonnet-4.5", after=3)
    body = {
        "model": "claude-sonnet-4.5",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    seen = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            f"{fake_github.url}/v1/messages",
            json=body,
            headers={"authorization": f"Bearer {key}", "editor-version": "vscode/1.95.0"},
        ) as r,
    ):
        for line in r.iter_lines():
            seen.append(line)
    assert any("message_start" in line for line in seen)
    assert not any("message_stop" in line for line in seen)


# ----- 2026 Copilot: the catalogue, policies, limits ---------------------------------


def _copilot(gh: FakeGitHub) -> dict[str, str]:
    key = _key(gh, gh.default_token).json()["token"]
    return {"authorization": f"Bearer {key}", "editor-version": "vscode/1.95.0"}


def test_catalogue_lists_limits_endpoints_and_policies(fake_github: FakeGitHub) -> None:
    r = httpx.get(f"{fake_github.url}/models", headers=_copilot(fake_github))
    models = {m["id"]: m for m in r.json()["data"]}
    opus = models["claude-opus-4.6"]
    assert opus["capabilities"]["type"] == "chat"
    assert opus["capabilities"]["limits"]["max_prompt_tokens"] == 128000
    assert opus["capabilities"]["limits"]["max_output_tokens"] == 64000
    assert "/v1/messages" in opus["supported_endpoints"]
    assert opus["policy"]["state"] == "enabled" and opus["vendor"] == "Anthropic"
    assert models["gpt-5.3-codex"]["supported_endpoints"] == ["/responses"]
    assert models["grok-code-fast-1"]["policy"]["state"] == "unconfigured"
    assert "policy" not in models["gpt-5-mini"]
    assert models["gemini-3-pro-preview"]["preview"] is True
    embed = models["text-embedding-3-small"]
    assert (embed["capabilities"]["type"], embed["model_picker_enabled"]) == ("embeddings", False)
    fake_github.catalogue_error = 503
    assert httpx.get(f"{fake_github.url}/models", headers=_copilot(fake_github)).status_code == 503
    assert fake_github.catalogue_calls == 2


def test_a_model_not_enabled_is_not_supported(fake_github: FakeGitHub) -> None:
    body = {"model": "grok-code-fast-1", "messages": [{"role": "user", "content": "hi"}]}
    r = httpx.post(f"{fake_github.url}/chat/completions", json=body, headers=_copilot(fake_github))
    assert (r.status_code, r.json()["error"]["code"]) == (400, "model_not_supported")
    fake_github.models["grok-code-fast-1"].policy = "enabled"
    r = httpx.post(f"{fake_github.url}/chat/completions", json=body, headers=_copilot(fake_github))
    assert r.json()["choices"][0]["message"]["content"] == "Hello from grok-code-fast-1."


def test_session_and_weekly_limits_say_the_wait_in_the_text(fake_github: FakeGitHub) -> None:
    body = {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]}
    fake_github.fail("gpt-5-mini", 429, code="user_global_rate_limited", retry_after=2733)
    r = httpx.post(f"{fake_github.url}/chat/completions", json=body, headers=_copilot(fake_github))
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert "Please retry after 2733 seconds" in r.json()["error"]["message"]
    fake_github.fail("gpt-5-mini", 429, code="user_weekly_rate_limited", retry_after=51 * 3600)
    r = httpx.post(f"{fake_github.url}/chat/completions", json=body, headers=_copilot(fake_github))
    assert "Please try again in 51 hours" in r.json()["error"]["message"]
    fake_github.fail("gpt-5-mini", 402)
    r = httpx.post(f"{fake_github.url}/chat/completions", json=body, headers=_copilot(fake_github))
    assert r.status_code == 402 and "retry-after" not in r.headers


def test_prompt_over_the_limit_is_refused_and_counted_alike(fake_github: FakeGitHub) -> None:
    auth = _copilot(fake_github)
    text = "word " * 1000  # 5000 characters: 1429 tokens for Claude (3.5 chars); o200k for GPT
    claude = {
        "model": "claude-haiku-4.5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": text}],
    }
    counted = httpx.post(f"{fake_github.url}/v1/messages/count_tokens", json=claude, headers=auth)
    assert counted.json() == {"input_tokens": 1429}
    answered = httpx.post(f"{fake_github.url}/v1/messages", json=claude, headers=auth).json()
    assert answered["usage"]["input_tokens"] == 1429
    fake_github.models["claude-haiku-4.5"].max_prompt_tokens = 1428
    refused = httpx.post(f"{fake_github.url}/v1/messages", json=claude, headers=auth)
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "message": "prompt token count of 1429 exceeds the limit of 1428",
        "code": "model_max_prompt_tokens_exceeded",
        "param": None,
        "type": "invalid_request_error",
    }
    gpt = {"model": "gpt-5-mini", "messages": [{"role": "user", "content": text}]}
    usage = httpx.post(f"{fake_github.url}/chat/completions", json=gpt, headers=auth).json()
    assert usage["usage"]["prompt_tokens"] == 1001  # "word", 999 " word", " "


def test_responses_only_model_calls_functions(fake_github: FakeGitHub) -> None:
    auth = _copilot(fake_github)
    tool = {
        "type": "function",
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
    body = {"model": "gpt-5.3-codex", "input": "use get_weather for Paris", "tools": [tool]}
    chat = httpx.post(
        f"{fake_github.url}/chat/completions",
        json={"model": "gpt-5.3-codex", "messages": [{"role": "user", "content": "hi"}]},
        headers=auth,
    )
    assert chat.json()["error"]["code"] == "unsupported_api_for_model"
    out = httpx.post(f"{fake_github.url}/responses", json=body, headers=auth).json()["output"]
    assert (out[0]["type"], out[0]["name"], out[0]["arguments"]) == (
        "function_call",
        "get_weather",
        '{"city": "Paris"}',
    )
    follow = {
        **body,
        "input": [
            {"role": "user", "content": "use get_weather for Paris"},
            out[0],
            {"type": "function_call_output", "call_id": out[0]["call_id"], "output": "sunny"},
        ],
    }
    done = httpx.post(f"{fake_github.url}/responses", json=follow, headers=auth).json()
    assert done["output"][0]["content"][0]["text"] == "Hello from gpt-5.3-codex."


def test_a_paced_stream_sends_one_event_per_gap(fake_github: FakeGitHub) -> None:
    key = _key(fake_github, fake_github.default_token).json()["token"]
    fake_github.pace("gpt-5-mini", 0.2)
    body = {"model": "gpt-5-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    arrivals = []
    with httpx.stream(
        "POST",
        f"{fake_github.url}/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {key}", "editor-version": "vscode/1.95.0"},
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic())
    assert len(arrivals) >= 4
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.15  # each event waited for its gap: a stream that lasts
