"""The token Secret, the contract between the login service and the operator: built,
read with one decoding rule, labelled, cleared (docs/contracts.md)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from copilot_proxy.core import manifests, names, token_secret
from copilot_proxy.core.spec import ProxySpec, parse_spec

OWNER = manifests.owner_reference("copilot", "0b6e4c7a-1111-2222-3333-444455556666")


def parsed(**fields: Any) -> ProxySpec:
    raw = {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}], **fields}
    return parse_spec("copilot", "team-a", raw)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_token_secret_is_created_empty_under_the_chosen_name() -> None:
    secret = token_secret.empty(parsed(tokenSecret={"name": "my-token"}), OWNER)
    assert secret["metadata"]["name"] == "my-token"
    assert secret["data"] == {}


def test_the_empty_secret_is_the_proxys_child_and_carries_its_labels() -> None:
    secret = token_secret.empty(parsed(), OWNER)
    assert secret["metadata"]["namespace"] == "team-a"
    assert secret["metadata"]["labels"] == names.labels("copilot")
    assert secret["metadata"]["ownerReferences"] == [OWNER]
    assert token_secret.is_labelled(secret)
    assert "ownerReferences" not in token_secret.empty(parsed(), None)["metadata"]


def test_token_secret_carries_login_and_time_and_the_token_only_in_data() -> None:
    when = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    body = token_secret.filled(
        "ai", names.token_secret("copilot"), "copilot", "gho_secret", "octocat", when
    )
    assert body["metadata"]["name"] == "copilot-github-token"
    assert body["metadata"]["labels"] == {"copilot-proxy.dev/proxy": "copilot"}
    assert body["metadata"]["annotations"] == {
        "copilot-proxy.dev/login": "octocat",
        "copilot-proxy.dev/token-updated-at": "2026-11-25T12:00:00Z",
    }
    assert "gho_secret" not in str(body["metadata"])
    info = token_secret.read(body)
    assert (info.present, info.login, info.updated_at) == (True, "octocat", "2026-11-25T12:00:00Z")
    assert info.value == "gho_secret"
    assert token_secret.read({"metadata": {}, "data": {}}).present is False
    assert token_secret.read(None).present is False
    assert token_secret.CLEAR_PATCH["data"] == {"access-token": None}


def test_clearing_drops_the_token_and_who_stored_it() -> None:
    assert token_secret.CLEAR_PATCH == {
        "metadata": {
            "annotations": {
                "copilot-proxy.dev/login": None,
                "copilot-proxy.dev/token-updated-at": None,
            }
        },
        "data": {"access-token": None},
    }


def test_login_and_time_count_only_along_with_a_token() -> None:
    signed_out = {
        "metadata": {"annotations": {"copilot-proxy.dev/login": "octocat"}},
        "data": {"access-token": ""},
    }
    assert token_secret.read(signed_out) == token_secret.StoredToken()


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b64("gho_abc\n"), "gho_abc"),  # pasted with a newline: the token without it
        ("not base64!", ""),  # what no API server returns: no token, not garbage
        (base64.b64encode(b"\xff\xfe").decode(), ""),  # not UTF-8
        (None, ""),
    ],
)
def test_one_decoding_rule_for_every_reader(raw: str | None, value: str) -> None:
    secret = {"metadata": {}, "data": {names.TOKEN_KEY: raw, names.MASTER_KEY_KEY: raw}}
    assert token_secret.read(secret).value == value
    assert token_secret.data_value(secret, names.MASTER_KEY_KEY) == value


def test_a_users_own_secret_is_labelled_for_the_proxy_not_adopted() -> None:
    mine = {"metadata": {"name": "my-token", "labels": {"team": "a"}}, "data": {}}
    assert not token_secret.is_labelled(mine)
    assert token_secret.label_patch("copilot") == {
        "metadata": {"labels": {"copilot-proxy.dev/proxy": "copilot"}}
    }
