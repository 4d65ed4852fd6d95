"""When proxy pods roll and when the operator patches: token and config hashes,
replicas, and the drift check that must ignore what the API server adds."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from copilot_proxy.core import manifests, rollout
from copilot_proxy.core.names import CONFIG_HASH
from copilot_proxy.core.render import config_hash, config_yaml, render_config
from copilot_proxy.core.rollout import desired_replicas, differs, pod_annotations, token_hash
from copilot_proxy.core.spec import parse_spec

# --- hashes -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", " ", "\n", " \t\n "])
def test_no_token_has_an_empty_hash(token: str) -> None:
    assert token_hash(token) == ""


def test_token_hash_tracks_the_token_not_its_whitespace() -> None:
    one = token_hash("gho_first")
    assert one and len(one) == 16
    assert token_hash("gho_first\n") == one  # `kubectl create secret --from-file` adds one
    assert token_hash("gho_second") != one


def test_token_hash_does_not_reveal_the_token() -> None:
    token = "gho_" + "a1b2c3d4" * 4
    assert token not in token_hash(token) and token[:8] not in token_hash(token)


def test_pod_annotations_carry_both_hashes() -> None:
    assert pod_annotations("c" * 16, "t" * 16) == {
        "copilot-proxy.dev/config-hash": "c" * 16,
        "copilot-proxy.dev/token-hash": "t" * 16,
    }


def template_for(spec_fields: dict[str, Any], token: str) -> dict[str, Any]:
    """The pod template the operator would write for a spec and a token."""
    spec = parse_spec("p", "ns", {"models": [{"name": "gpt-5-mini"}], **spec_fields})
    annotations = pod_annotations(config_hash(config_yaml(render_config(spec))), token_hash(token))
    dep = manifests.deployment(
        spec,
        image="img:1",
        replicas=desired_replicas(spec.replicas, bool(token.strip())),
        pod_annotations=annotations,
        owner=None,
    )
    template: dict[str, Any] = dep["spec"]["template"]
    return template


def test_template_changes_with_the_config_or_the_token_and_nothing_else() -> None:
    base = template_for({}, "gho_a")
    assert template_for({}, "gho_a") == base
    assert template_for({"replicas": 3}, "gho_a") == base  # scaling is not a rollout
    assert template_for({"router": {"cooldownSeconds": 5}}, "gho_a") != base
    assert template_for({}, "gho_b") != base


# --- replicas ---------------------------------------------------------------------------


def test_no_pods_without_a_token() -> None:
    assert desired_replicas(3, has_token=False) == 0
    assert desired_replicas(3, has_token=True) == 3
    assert desired_replicas(0, has_token=True) == 0


# --- drift ------------------------------------------------------------------------------


def test_server_added_fields_are_not_drift() -> None:
    desired = template_for({}, "gho_a")
    actual = copy.deepcopy(desired)
    actual["spec"]["dnsPolicy"] = "ClusterFirst"
    actual["spec"]["containers"][0]["terminationMessagePath"] = "/dev/termination-log"
    actual["spec"]["containers"][0]["livenessProbe"]["successThreshold"] = 1
    actual["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = "now"
    assert not differs(desired, actual)


def test_changed_or_missing_fields_are_drift() -> None:
    desired = template_for({}, "gho_a")
    changed = copy.deepcopy(desired)
    changed["spec"]["containers"][0]["image"] = "evil:latest"
    assert differs(desired, changed)
    missing = copy.deepcopy(desired)
    del missing["spec"]["automountServiceAccountToken"]
    assert differs(desired, missing)
    annotation = copy.deepcopy(desired)
    annotation["metadata"]["annotations"]["copilot-proxy.dev/config-hash"] = "old"
    assert differs(desired, annotation)


def test_list_length_changes_are_drift() -> None:
    desired = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    assert differs(desired, {"env": [{"name": "A", "value": "1"}]})
    assert differs(desired, {"env": [*desired["env"], {"name": "C", "value": "3"}]})
    assert not differs(desired, {"env": [{"name": "A", "value": "1", "x": 0}, desired["env"][1]]})


def test_type_changes_are_drift() -> None:
    assert differs({"a": {"b": 1}}, {"a": [1]})
    assert differs({"a": [1]}, {"a": {"0": 1}})
    assert differs({"a": 1}, {"a": "1"})
    assert differs({"a": None}, {"a": 0})


def test_empty_maps_and_lists_the_server_omits_are_not_drift() -> None:
    """The API server drops `data: {}` of an empty Secret and empty annotations."""
    assert not differs({"data": {}}, {})
    assert not differs({"metadata": {"annotations": {}}}, {"metadata": {}})
    assert not differs({"items": []}, {})
    assert differs({"data": {"k": "v"}}, {})


def test_an_app_identity_replaces_the_token_hash() -> None:
    """A GitHub App's token rotates in place: only its identity is in the pod template."""
    first = rollout.pod_annotations("cfg", rollout.token_hash("ghs_one"), "id-a")
    renewed = rollout.pod_annotations("cfg", rollout.token_hash("ghs_two"), "id-a")
    assert first == renewed == {CONFIG_HASH: "cfg", "copilot-proxy.dev/credential": "id-a"}
    other = rollout.pod_annotations("cfg", rollout.token_hash("ghs_two"), "id-b")
    before, after = (
        {"spec": {"template": {"metadata": {"annotations": a}}}} for a in (first, other)
    )
    rolled, said = rollout.announce(before, after)
    assert rolled and [reason for reason, _ in said] == ["CredentialChanged"]
    assert rollout.announce(before, before) == (False, [])
