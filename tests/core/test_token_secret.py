"""The token Secret, the contract between the login service and the operator: built,
read with one decoding rule, labelled, cleared (docs/contracts.md)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from copilot_proxy.core import manifests, names, token_secret
from copilot_proxy.core.spec import ProxySpec, parse_spec

Obj = dict[str, Any]
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
    assert token_secret.owned_by(secret, OWNER["uid"])
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


UID = OWNER["uid"]
OTHER = manifests.owner_reference("other", "99999999-8888-7777-6666-555555555555")


def secret(annotations: dict[str, str] | None = None, owners: list[Obj] | None = None) -> Obj:
    meta: Obj = {"name": "billing-api", "namespace": "team-a"}
    if annotations:
        meta["annotations"] = annotations
    if owners:
        meta["ownerReferences"] = owners
    return {"metadata": meta, "type": "Opaque", "data": {"access-token": b64("x")}}


def test_a_proxy_uses_the_secret_it_owns() -> None:
    assert token_secret.refusal(secret(owners=[OWNER]), "copilot", UID) == ""


@pytest.mark.parametrize("marks", ["copilot", "other,copilot", " other , copilot ", "copilot,"])
def test_a_proxy_uses_a_secret_marked_for_it(marks: str) -> None:
    marked = secret({"copilot-proxy.dev/token-for": marks})
    assert token_secret.refusal(marked, "copilot", UID) == ""


def test_an_unmarked_secret_is_refused_saying_how_to_mark_it() -> None:
    why = token_secret.refusal(secret(), "copilot", UID)
    assert "Secret team-a/billing-api" in why
    assert (
        "kubectl annotate secret -n team-a billing-api copilot-proxy.dev/token-for=copilot" in why
    )


@pytest.mark.parametrize("marks", ["copilot2", "other", "copilot-proxy", ""])
def test_a_mark_for_another_proxy_is_no_mark(marks: str) -> None:
    assert token_secret.refusal(secret({"copilot-proxy.dev/token-for": marks}), "copilot", UID)


def test_a_secret_another_object_controls_is_refused_even_when_marked() -> None:
    """Deleting its owner would delete it: a proxy never depends on another's Secret."""
    marked = {"copilot-proxy.dev/token-for": "copilot"}
    why = token_secret.refusal(secret(marked, [OTHER]), "copilot", UID)
    assert "belongs to CopilotProxy other" in why
    job = {"apiVersion": "v1", "kind": "ExternalThing", "name": "x", "uid": "u", "controller": True}
    assert token_secret.refusal(secret(marked, [job]), "copilot", UID)
    # Not a controller, but another proxy: its deletion would collect the Secret too.
    assert token_secret.refusal(secret(marked, [{**OTHER, "controller": False}]), "copilot", UID)


def test_only_opaque_secrets_hold_tokens() -> None:
    account = {
        **secret({"copilot-proxy.dev/token-for": "copilot"}),
        "type": "kubernetes.io/service-account-token",
    }
    assert "Opaque" in token_secret.refusal(account, "copilot", UID)


def test_the_login_services_create_is_owned_by_the_proxy() -> None:
    when = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    body = token_secret.filled("ai", "copilot-github-token", "copilot", "t", "o", when, OWNER)
    assert token_secret.owned_by(body, UID)
    assert "ownerReferences" not in token_secret.filled("ai", "s", "p", "t", "o", when)["metadata"]
