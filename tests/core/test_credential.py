"""spec.credential, the renewal schedule, GitHub's refusals and the status entry of a GitHub App."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from copilot_proxy.core import app_failures, credential, names
from copilot_proxy.core.app_failures import Where, classify
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.core.spec import SpecError, parse_spec

APP: dict[str, Any] = {
    "appId": "123456",
    "installationId": 7890123,
    "privateKeySecretRef": {"name": "copilot-app-key"},
}
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def parse(github_app: Any) -> GitHubApp | None:
    spec = {"models": [{"name": "gpt-5-mini"}], "credential": {"githubApp": github_app}}
    return parse_spec("team", "ai", spec).credential


def test_no_credential_is_the_device_flow() -> None:
    assert parse_spec("team", "ai", {"models": [{"name": "gpt-5-mini"}]}).credential is None
    assert parse(None) is None


def test_an_app_by_id_gets_the_documented_defaults() -> None:
    app = parse(APP)
    assert app == GitHubApp("123456", "", 7890123, "copilot-app-key")
    assert app.key_name == "private-key.pem"
    assert app.permissions == (("copilot_requests", "write"),)
    assert app.issuer == "123456"
    assert app.identity == "github-app/123456/7890123"


def test_the_client_id_is_the_issuer_when_given() -> None:
    raw = {
        **APP,
        "clientId": "Iv23liAbC",
        "repositoryIds": [42],
        "permissions": {"metadata": "read"},
    }
    del raw["appId"]
    app = parse(raw)
    assert app is not None and app.issuer == "Iv23liAbC" and app.app_id == ""
    assert app.identity == "github-app/Iv23liAbC/7890123"
    assert app.repository_ids == (42,) and app.permissions == (("metadata", "read"),)


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"clientId": "Iv23li"}, "appId", "exactly one"),
        ({"appId": None}, "appId", "exactly one"),
        ({"appId": 123456}, "appId", "string"),
        ({"appId": "12a"}, "appId", "App ID"),
        ({"appId": None, "clientId": "Ov23li"}, "clientId", "client ID"),
        ({"installationId": None}, "installationId", "settings URL"),
        ({"installationId": 0}, "installationId", "whole number"),
        ({"installationId": "7890123"}, "installationId", "whole number"),
        ({"privateKeySecretRef": None}, "privateKeySecretRef", "private key"),
        ({"privateKeySecretRef": {"key": "k"}}, "privateKeySecretRef.name", "required"),
        ({"privateKeySecretRef": {"name": "Key_1"}}, "privateKeySecretRef.name", "Secret name"),
        ({"privateKeySecretRef": {"name": "k", "pem": "x"}}, "privateKeySecretRef.pem", "unknown"),
        ({"repositoryIds": [1, 1]}, "repositoryIds", "twice"),
        ({"repositoryIds": [0]}, "repositoryIds[0]", ">= 1"),
        ({"repositoryIds": "1"}, "repositoryIds", "list"),
        (
            {"permissions": {"copilot_requests": "admin"}},
            "permissions.copilot_requests",
            "read or write",
        ),
        ({"permissions": {"Copilot": "write"}}, "permissions", "permission name"),
        ({"permissions": {}}, "permissions", "copilot_requests: write"),
        ({"privateKey": "-----BEGIN"}, "privateKey", "unknown field"),
    ],
)
def test_an_incomplete_app_is_refused_naming_the_field(
    change: dict[str, Any], field: str, says: str
) -> None:
    raw = {k: v for k, v in {**APP, **change}.items() if v is not None}
    with pytest.raises(SpecError) as caught:
        parse(raw)
    assert caught.value.field == f"credential.githubApp.{field}"
    assert says in caught.value.message
    assert str(caught.value).startswith(f"spec.credential.githubApp.{field}: ")


def test_an_unknown_credential_kind_is_refused() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec("t", "ai", {"models": [{"name": "gpt-5-mini"}], "credential": {"pat": {}}})
    assert caught.value.field == "credential.pat"


# --- renewal -------------------------------------------------------------------------


def test_a_token_is_renewed_half_way_through_its_life() -> None:
    expires = T0 + timedelta(hours=1)
    renew = credential.renew_at(T0, expires)
    assert renew == T0 + timedelta(minutes=30)
    assert not credential.due(T0 + timedelta(minutes=29), renew, token_present=True)
    assert credential.due(T0 + timedelta(minutes=30), renew, token_present=True)


def test_a_missing_token_or_an_unknown_schedule_is_minted_at_once() -> None:
    renew = T0 + timedelta(minutes=30)
    assert credential.due(T0, renew, token_present=False)
    assert credential.due(T0, None, token_present=True)


def test_the_operator_looks_again_at_renewal_or_every_five_minutes() -> None:
    assert credential.wait_seconds(T0, T0 + timedelta(minutes=30)) == 300
    assert credential.wait_seconds(T0, T0 + timedelta(seconds=4)) == 4
    assert credential.wait_seconds(T0, T0 - timedelta(seconds=4)) == 0
    assert credential.wait_seconds(T0, None) == 0


# --- status and pods -------------------------------------------------------------------


def test_status_names_the_app_and_when_without_secrets() -> None:
    app = parse(APP)
    expires = T0 + timedelta(hours=1)
    entry = credential.status_credential(app, "acme", expires, credential.renew_at(T0, expires))
    assert entry == {
        "kind": "GitHubApp",
        "appId": "123456",
        "installationId": 7890123,
        "account": "acme",
        "expiresAt": "2026-12-01T11:00:00Z",
        "renewAt": "2026-12-01T10:30:00Z",
    }
    assert credential.status_credential(None, "octocat") == {
        "kind": "DeviceFlow",
        "account": "octocat",
    }
    assert credential.status_credential(None) == {"kind": "DeviceFlow"}


def test_the_pod_identity_changes_with_the_installation_not_the_token() -> None:
    app = parse(APP)
    other = parse({**APP, "installationId": 7890124})
    assert app is not None and other is not None
    assert credential.identity_hash(app) == credential.identity_hash(parse(APP))  # type: ignore[arg-type]
    assert credential.identity_hash(app) != credential.identity_hash(other)
    assert len(credential.identity_hash(app)) == 16


# --- the key Secret: the token Secret's ownership rule with its own annotation ------------


def secret(annotations: dict[str, str], **extra: Any) -> dict[str, Any]:
    meta = {"name": "copilot-app-key", "namespace": "ai", "annotations": annotations}
    return {"metadata": meta, "type": "Opaque", **extra}


def test_a_key_secret_marked_for_the_proxy_is_used() -> None:
    marked = secret({names.APP_KEY_FOR_ANNOTATION: "other, team"})
    assert credential.key_refusal(marked, "team", "uid-1") == ""


def test_a_key_secret_marked_as_a_token_only_is_refused_with_the_command() -> None:
    refused = credential.key_refusal(secret({names.TOKEN_FOR_ANNOTATION: "team"}), "team", "u")
    assert refused == (
        "Secret ai/copilot-app-key was not made for this proxy; if it holds the GitHub App's"
        " private key, mark it: kubectl annotate secret -n ai copilot-app-key"
        " copilot-proxy.dev/app-key-for=team (several proxies: comma-separated)"
    )


def test_a_key_secret_another_object_controls_is_refused() -> None:
    owner = {"kind": "Deployment", "name": "web", "uid": "x", "controller": True}
    marked = secret({names.APP_KEY_FOR_ANNOTATION: "team"})
    marked["metadata"]["ownerReferences"] = [owner]
    assert "belongs to Deployment web" in credential.key_refusal(marked, "team", "uid-1")
    tls = secret({names.APP_KEY_FOR_ANNOTATION: "team"}, type="kubernetes.io/tls")
    assert "a GitHub App key Secret is an Opaque Secret" in credential.key_refusal(tls, "team", "u")


def test_a_secret_the_operator_made_for_the_proxy_is_never_its_key() -> None:
    """privateKeySecretRef naming the proxy's own master-key or token Secret (owned by the
    proxy, even marked): refused, so a spec cannot feed the operator's own Secrets to GitHub
    as a key."""
    own = {"kind": "CopilotProxy", "name": "team", "uid": "uid-1", "controller": True}
    mine = secret({names.APP_KEY_FOR_ANNOTATION: "team"})
    mine["metadata"]["ownerReferences"] = [own]
    refused = credential.key_refusal(mine, "team", "uid-1")
    assert "is one the operator made for this proxy" in refused
    assert "kubectl annotate secret NAME copilot-proxy.dev/app-key-for=team" in refused


# --- what GitHub's answers mean ---------------------------------------------------------

WHERE = Where(app=parse(APP), namespace="ai", proxy="team", account="acme")


def msg(text: str) -> dict[str, str]:
    return {"message": text, "documentation_url": "https://docs.github.com/rest"}


@pytest.mark.parametrize(
    ("status", "message", "reason", "todo"),
    [
        (401, "A JSON web token could not be decoded", "KeyInvalid", "generate a new private key"),
        (401, "Integration not found", "KeyInvalid", "appId 123456 is this App's"),
        (
            401,
            "'Expiration time' claim ('exp') is too far in the future",
            "ClockSkew",
            "synchronise the node's clock",
        ),
        (
            401,
            "'Issued at' claim ('iat') must be an Integer representing a time in the past",
            "ClockSkew",
            "NTP",
        ),
        (
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time"
            " at which the assertion expires",
            "ClockSkew",
            "NTP",
        ),
        (
            404,
            "Not Found",
            "AppNotInstalled",
            "https://github.com/organizations/acme/settings/installations",
        ),
        (403, "This installation has been suspended", "AppNotInstalled", "unsuspends it at"),
        (
            422,
            "The permissions requested are not granted to this installation.",
            "PermissionMissing",
            "Copilot Requests: Read and write",
        ),
        (
            422,
            "There is at least one repository that does not exist or is not accessible to the"
            " parent installation.",
            "PermissionMissing",
            "repositoryIds",
        ),
        (502, "Server Error", "GitHubUnreachable", "tries again"),
        (403, "API rate limit exceeded for installation", "GitHubUnreachable", "tries again"),
    ],
)
def test_each_documented_refusal_says_what_to_do(
    status: int, message: str, reason: str, todo: str
) -> None:
    failure = classify(status, msg(message), WHERE)
    assert failure.reason == reason
    assert todo in failure.message
    assert message.split()[0] in failure.message  # GitHub's words are quoted


def test_a_key_github_refuses_names_the_secret_to_replace() -> None:
    failure = classify(401, msg("A JSON web token could not be decoded"), WHERE)
    assert "store it in Secret ai/copilot-app-key key private-key.pem" in failure.message


def test_at_the_key_exchange_a_refused_token_is_minted_again_and_a_403_is_the_org_policy() -> None:
    refused = classify(401, msg("Bad credentials"), WHERE, stage="copilot")
    assert refused.reason == app_failures.TOKEN_REFUSED and refused.transient
    policy = classify(
        403, msg("Copilot requests from GitHub Apps are disabled"), WHERE, stage="copilot"
    )
    assert policy.reason == "CopilotRequestsDisabled" and not policy.transient
    assert "organisation acme" in policy.message and "policy" in policy.message


@pytest.mark.parametrize(
    ("message", "reason", "todo"),
    [
        ("This installation has been suspended", "AppNotInstalled", "unsuspends it at"),
        ("Resource not accessible by integration", "PermissionMissing", "All repositories"),
    ],
)
def test_at_the_key_exchange_a_suspended_or_ungranted_installation_is_not_the_org_policy(
    message: str, reason: str, todo: str
) -> None:
    failure = classify(403, msg(message), WHERE, stage="copilot")
    assert (failure.reason, failure.transient) == (reason, False)
    assert todo in failure.message and "/settings/installations/7890123" in failure.message


def test_a_long_or_multi_line_github_message_is_cut_to_one_short_line() -> None:
    failure = classify(401, msg("Integration\nnot found " + "x" * 500), WHERE)
    assert "\n" not in failure.message and "x" * 201 not in failure.message


def test_a_missing_key_secret_says_how_to_create_and_mark_it() -> None:
    failure = app_failures.key_secret_missing(WHERE)
    assert failure.reason == "KeySecretMissing"
    assert "kubectl create secret generic copilot-app-key -n ai" in failure.message
    assert "--from-file=private-key.pem=KEY.pem" in failure.message
    assert "copilot-proxy.dev/app-key-for=team" in failure.message
