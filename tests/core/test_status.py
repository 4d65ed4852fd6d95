"""What `kubectl get cpx` / `kubectl describe cpx` tell a user: conditions, the
status block and the events, for each stage of a proxy's life."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from copilot_proxy.core.catalogue import NOT_ENABLED, ModelFacts, observe
from copilot_proxy.core.spec import SpecError, parse_spec
from copilot_proxy.core.status import (
    Observation,
    build_status,
    conditions,
    merge_patch,
    transitions,
)
from tests.crds.schema import openapi_schema, validate

NOW = datetime(2026, 11, 5, 14, 30, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
HINT = "open https://login.example.com/github and sign in"

WAITING = Observation(
    name="copilot",
    namespace="team-a",
    generation=1,
    config_hash="0123456789abcdef",
    token_secret="copilot-github-token",
    replicas=0,
    login_hint=HINT,
)
STARTING = replace(
    WAITING,
    token_present=True,
    token_login="octocat",
    token_updated_at="2026-11-02T10:00:00Z",
    replicas=2,
    ready_replicas=1,
)
CHAIN = ("claude-opus-4.6", "grok-code-fast-1", "gpt-9")
SEEN = observe(
    {
        "claude-opus-4.6": ModelFacts("claude-opus-4.6", max_prompt_tokens=128000),
        "grok-code-fast-1": ModelFacts("grok-code-fast-1", state=NOT_ENABLED),
    },
    CHAIN,
    "2026-11-05T14:00:00Z",
)
ALL_THERE = observe({"claude-opus-4.6": ModelFacts("claude-opus-4.6")}, CHAIN[:1], SEEN.observed_at)
SERVING = replace(
    STARTING,
    ready_replicas=2,
    catalogue=ALL_THERE,
    served=CHAIN[:1],
    catalogue_checked_at=SEEN.observed_at,
)


def invalid(raw: dict[str, Any]) -> Observation:
    try:
        parse_spec("copilot", "team-a", raw)
    except SpecError as error:
        return replace(SERVING, config_error=str(error), generation=2)
    raise AssertionError("the spec was accepted")


BAD_ROUTE = invalid(
    {"models": [{"name": "gpt-5-mini"}], "routes": [{"name": "fast", "models": ["o3"]}]}
)


def by_type(status_or_conds: Any) -> dict[str, dict[str, Any]]:
    conds = status_or_conds["conditions"] if isinstance(status_or_conds, dict) else status_or_conds
    return {c["type"]: c for c in conds}


# --- conditions for each stage ----------------------------------------------------------


def test_invalid_spec_says_which_field_to_fix() -> None:
    conds = by_type(conditions(BAD_ROUTE))
    assert conds["Ready"]["status"] == "False"
    assert conds["Ready"]["reason"] == "InvalidSpec"
    assert conds["Ready"]["message"].startswith("spec.routes[0].models[0]: ")
    assert conds["ConfigReady"]["status"] == "False"
    assert conds["ConfigReady"]["reason"] == "InvalidSpec"


def test_invalid_spec_wins_over_every_other_reason() -> None:
    waiting_and_invalid = replace(BAD_ROUTE, token_present=False, replicas=0, ready_replicas=0)
    assert by_type(conditions(waiting_and_invalid))["Ready"]["reason"] == "InvalidSpec"


def test_waiting_for_login_says_how_to_log_in() -> None:
    conds = by_type(conditions(WAITING))
    assert conds["Ready"]["status"] == "False"
    assert conds["Ready"]["reason"] == "WaitingForLogin"
    assert HINT in conds["Ready"]["message"]
    assert "copilot-github-token" in conds["Ready"]["message"]
    assert (conds["TokenReady"]["status"], conds["TokenReady"]["reason"]) == (
        "False",
        "WaitingForLogin",
    )
    assert conds["ProxyAvailable"]["reason"] == "ScaledToZero"
    assert conds["ConfigReady"]["status"] == "True"


def test_waiting_for_login_has_a_default_hint() -> None:
    message = by_type(conditions(replace(WAITING, login_hint="")))["Ready"]["message"]
    assert "/github" in message


def test_pods_starting_counts_ready_pods() -> None:
    conds = by_type(conditions(STARTING))
    assert conds["Ready"]["status"] == "False"
    assert conds["Ready"]["reason"] == "PodsStarting"
    assert "1/2" in conds["Ready"]["message"]
    assert conds["TokenReady"]["status"] == "True"
    assert "octocat" in conds["TokenReady"]["message"]


def test_serving_gives_the_endpoint() -> None:
    conds = by_type(conditions(SERVING))
    assert all(c["status"] == "True" for c in conds.values())
    assert conds["Ready"]["reason"] == "Serving"
    assert "http://copilot.team-a.svc:4000" in conds["Ready"]["message"]


def test_ready_comes_first_for_the_printer_column() -> None:
    types = [c["type"] for c in conditions(SERVING)]
    assert types == ["Ready", "TokenReady", "ConfigReady", "ProxyAvailable", "ModelsAvailable"]


def test_models_available_names_what_the_account_lacks_and_where_to_enable_it() -> None:
    lacking = replace(SERVING, catalogue=SEEN, served=CHAIN, web_base="https://acme.ghe.com")
    cond = by_type(conditions(lacking))["ModelsAvailable"]
    assert (cond["status"], cond["reason"]) == ("False", "ModelsUnavailable")
    assert "grok-code-fast-1 is not enabled for this account: enable it at" in cond["message"]
    assert "https://acme.ghe.com/settings/copilot/features" in cond["message"]
    assert "gpt-9 is not offered to this account" in cond["message"]
    assert "claude-opus-4.6" not in cond["message"]
    assert by_type(conditions(lacking))["Ready"]["status"] == "True"  # the others serve
    ok = by_type(conditions(SERVING))["ModelsAvailable"]
    assert (ok["status"], ok["reason"]) == ("True", "AllAvailable")


def test_models_available_is_unknown_while_github_cannot_say() -> None:
    down = "api.github.com did not answer the Copilot key exchange."
    never = by_type(conditions(replace(SERVING, catalogue=None, catalogue_error=down)))
    assert never["ModelsAvailable"]["status"] == "Unknown"
    assert never["ModelsAvailable"]["message"] == down
    kept = replace(SERVING, catalogue=SEEN, served=CHAIN, catalogue_error=down)
    cond = by_type(conditions(kept))["ModelsAvailable"]
    assert (cond["status"], cond["reason"]) == ("Unknown", "CatalogueUnreachable")
    assert down in cond["message"] and "grok-code-fast-1 is not enabled" in cond["message"]
    assert "2026-11-05T14:00:00Z" in cond["message"]
    status = build_status(kept, {}, NOW)
    assert status["catalogue"]["error"] == down
    assert status["catalogue"]["models"][1] == {
        "name": "grok-code-fast-1", "state": "NotEnabled", "type": "chat"}  # fmt: skip
    waiting = by_type(conditions(WAITING))["ModelsAvailable"]
    assert (waiting["status"], waiting["reason"]) == ("Unknown", "WaitingForLogin")
    # A token Secret the proxy may not use is never read: nothing to sign in to yet either.
    refused = replace(WAITING, token_refused="Secret billing-api is not this proxy's")
    cond = by_type(conditions(refused))["ModelsAvailable"]
    assert (cond["status"], cond["reason"]) == ("Unknown", "TokenSecretNotAllowed")


# --- the status block ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "obs",
    [WAITING, STARTING, SERVING, BAD_ROUTE],
    ids=["waiting", "starting", "serving", "invalid"],
)
def test_status_fits_the_crd_status_schema(obs: Observation) -> None:
    """A field the schema lacks would be pruned by the API server without a word."""
    status = build_status(obs, {}, NOW)
    obj = {"spec": {"models": [{"name": "gpt-5-mini"}]}, "status": status}
    assert validate(obj, openapi_schema()) == []


def test_status_while_waiting() -> None:
    status = build_status(WAITING, {}, NOW)
    assert status["token"] == {"state": "Missing", "secretName": "copilot-github-token"}
    assert status["login"] == HINT
    assert status["endpoint"] == "http://copilot.team-a.svc:4000"
    assert status["masterKeySecret"] == "copilot-master-key"
    assert (status["replicas"], status["readyReplicas"]) == (0, 0)
    assert status["observedGeneration"] == 1
    assert status["configHash"] == "0123456789abcdef"


def test_status_with_a_token_gives_its_login_and_age() -> None:
    status = build_status(SERVING, {}, NOW)
    assert status["token"] == {
        "state": "Present",
        "secretName": "copilot-github-token",
        "login": "octocat",
        "updatedAt": "2026-11-02T10:00:00Z",
        "age": "3d4h",
    }
    assert status["login"] == ""
    assert (status["replicas"], status["readyReplicas"]) == (2, 2)


def test_token_without_a_recorded_time_is_aged_from_first_sight() -> None:
    first = build_status(replace(SERVING, token_updated_at=""), {}, NOW)
    assert first["token"]["updatedAt"] == "2026-11-05T14:30:00Z"
    later = build_status(replace(SERVING, token_updated_at=""), first, NOW + timedelta(hours=2))
    assert later["token"]["updatedAt"] == "2026-11-05T14:30:00Z"
    assert later["token"]["age"] == "2h0m"


def test_conditions_carry_the_generation() -> None:
    status = build_status(BAD_ROUTE, {}, NOW)
    assert {c["observedGeneration"] for c in status["conditions"]} == {2}


def test_transition_time_is_kept_while_a_condition_holds() -> None:
    first = build_status(STARTING, {}, NOW)
    again = build_status(STARTING, first, LATER)
    assert again["conditions"] == first["conditions"]
    assert again == first


def test_transition_time_moves_only_for_the_condition_that_changed() -> None:
    first = build_status(STARTING, {}, NOW)
    then = by_type(build_status(SERVING, first, LATER))
    stamp_now, stamp_later = "2026-11-05T14:30:00Z", "2026-11-05T14:35:00Z"
    assert then["Ready"]["lastTransitionTime"] == stamp_later
    assert then["ProxyAvailable"]["lastTransitionTime"] == stamp_later
    assert then["TokenReady"]["lastTransitionTime"] == stamp_now
    assert then["ConfigReady"]["lastTransitionTime"] == stamp_now


# --- events -------------------------------------------------------------------------------


def test_no_events_while_nothing_changes() -> None:
    status = build_status(SERVING, {}, NOW)
    assert transitions(status, build_status(SERVING, status, LATER)) == []


def test_a_new_proxy_gets_one_event_for_where_it_stands() -> None:
    events = transitions({}, build_status(WAITING, {}, NOW))
    assert len(events) == 1
    kind, reason, message = events[0]
    assert (kind, reason) == ("Warning", "WaitingForLogin")
    assert HINT in message


def test_login_then_pods_ready_are_told() -> None:
    waiting = build_status(WAITING, {}, NOW)
    starting = build_status(STARTING, waiting, LATER)
    reasons = [(kind, reason) for kind, reason, _ in transitions(waiting, starting)]
    assert ("Normal", "TokenPresent") in reasons
    assert ("Warning", "PodsStarting") in reasons
    assert reasons.count(("Warning", "PodsStarting")) == 1  # not again for ProxyAvailable
    serving = build_status(SERVING, starting, LATER)
    reasons = [(kind, reason) for kind, reason, _ in transitions(starting, serving)]
    assert ("Normal", "Serving") in reasons and ("Normal", "PodsReady") in reasons


def test_a_bad_edit_is_a_warning_naming_the_field() -> None:
    serving = build_status(SERVING, {}, NOW)
    broken = build_status(BAD_ROUTE, serving, LATER)
    events = transitions(serving, broken)
    assert ("Warning", "InvalidSpec") in [(k, r) for k, r, _ in events]
    assert any("spec.routes[0].models[0]" in message for _, _, message in events)


def test_a_new_config_is_announced() -> None:
    before = build_status(SERVING, {}, NOW)
    after = build_status(replace(SERVING, config_hash="fedcba9876543210"), before, LATER)
    (event,) = [e for e in transitions(before, after) if e[1] == "ConfigChanged"]
    assert "0123456789abcdef" in event[2] and "fedcba9876543210" in event[2]


# --- nothing secret ----------------------------------------------------------------------


def test_no_key_or_token_reaches_status_or_events() -> None:
    """A key pasted into the pass-through is refused without being repeated anywhere."""
    secret = "sk-pasted-" + "q" * 40
    obs = invalid(
        {
            "models": [{"name": "gpt-5-mini"}],
            "litellm": {"general_settings": {"master_key": secret}},
        }
    )
    serving = build_status(SERVING, {}, NOW)
    broken = build_status(obs, serving, LATER)
    text = json.dumps([broken, transitions(serving, broken), transitions({}, broken)])
    assert "litellm.general_settings.master_key" in text
    assert secret not in text and "sk-" not in text


# --- a GitHub App proxy (issue 15) ------------------------------------------------------

APP_ENTRY = {
    "kind": "GitHubApp",
    "appId": "123456",
    "installationId": 7890123,
    "account": "acme",
    "expiresAt": "2026-11-05T15:30:00Z",
    "renewAt": "2026-11-05T15:00:00Z",
}
MINTED = replace(
    SERVING,
    token_login="acme",
    credential=APP_ENTRY,
    credential_reason="Minted",
    credential_message="installation token for acme expires at 2026-11-05T15:30:00Z",
)


def test_an_app_proxy_with_a_token_is_ready_and_says_who_pays() -> None:
    status = build_status(MINTED, {}, NOW)
    conds = by_type(status)
    assert (conds["CredentialReady"]["status"], conds["CredentialReady"]["reason"]) == (
        "True",
        "Minted",
    )
    assert conds["Ready"]["status"] == "True"
    assert status["credential"] == APP_ENTRY
    assert status["login"] == ""
    obj = {"spec": {"models": [{"name": "gpt-5-mini"}]}, "status": status}
    assert validate(obj, openapi_schema()) == [], "status.credential fits the CRD"


def test_an_app_failure_is_ready_false_with_what_to_do() -> None:
    failing = replace(
        MINTED,
        token_present=False,
        catalogue=None,
        credential_reason="AppNotInstalled",
        credential_message="install the App on the organisation that pays",
    )
    status = build_status(failing, {}, NOW)
    conds = by_type(status)
    for kind in ("Ready", "TokenReady", "CredentialReady"):
        assert (conds[kind]["status"], conds[kind]["reason"]) == ("False", "AppNotInstalled")
    assert "sign in" not in conds["TokenReady"]["message"], "nobody signs in to an App proxy"
    assert conds["ModelsAvailable"]["reason"] == "WaitingForCredential"
    assert status["login"] == failing.credential_message
    events = transitions(build_status(MINTED, {}, NOW), status)
    assert ("Warning", "AppNotInstalled") in [(kind, reason) for kind, reason, _ in events]


def test_the_device_flow_has_no_credential_condition() -> None:
    entry = {"kind": "DeviceFlow", "account": "octocat"}
    status = build_status(replace(SERVING, credential=entry), {}, NOW)
    assert "CredentialReady" not in by_type(status)
    assert status["credential"] == entry


def test_a_field_a_status_map_drops_is_removed_by_the_patch() -> None:
    """Merge patches keep what they do not name: the App's fields must be named to go."""
    old = build_status(MINTED, {}, NOW)
    new = build_status(replace(WAITING, credential={"kind": "DeviceFlow"}), old, LATER)
    patch = merge_patch(old, new)
    assert patch["credential"] == {
        "kind": "DeviceFlow",
        **dict.fromkeys(["appId", "installationId", "account", "expiresAt", "renewAt"]),
    }
    assert patch["token"]["login"] is None and patch["conditions"] == new["conditions"]
