"""Which Secrets and claims an MCP server of proxy `team` may use: its own, or marked for it
by someone who may write them, and never one another object controls."""

from __future__ import annotations

from typing import Any

import pytest

from copilot_proxy.core.mcp_access import allowed, refusal, secret_hash

UID = "uid-team"


def obj(annotation: str | None = None, controller: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "weather"}
    if annotation is not None:
        meta["annotations"] = {"copilot-proxy.dev/mcp-for": annotation}
    if controller is not None:
        meta["ownerReferences"] = [{"uid": controller, "controller": True}]
    return {"metadata": meta}


@pytest.mark.parametrize(
    ("found", "ok"),
    [
        (obj(), False),
        (obj("other"), False),
        (obj("team"), True),
        (obj("other, team"), True),
        (obj("teams"), False),
        (obj(controller=UID), True),
        (obj("team", controller="uid-other"), False),  # owned by B: never used by A
    ],
)
def test_own_or_marked_and_nothing_else(found: dict[str, Any], ok: bool) -> None:
    assert allowed(found, "team", UID) is ok


def test_the_refusal_says_how_to_allow_it() -> None:
    message = refusal("Secret", "weather", "team", obj("other"))
    assert message.endswith(
        "kubectl annotate --overwrite secret weather copilot-proxy.dev/mcp-for=other,team"
    )
    foreign = refusal("PersistentVolumeClaim", "d", "team", obj(controller="x"))
    assert "controlled by another object" in foreign


def test_the_secret_fingerprint_moves_with_any_value_and_shows_none() -> None:
    one = secret_hash({("weather", "token"): "s3cr3t-value"})
    assert one and "s3cr3t" not in one
    assert secret_hash({("weather", "token"): "rotated"}) != one
    assert secret_hash({}) == ""
