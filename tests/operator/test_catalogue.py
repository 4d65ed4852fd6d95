"""The operator reads the account's Copilot catalogue after sign-in and keeps what it said:
the ModelsAvailable condition, the limits in the rendered config, and no harm when GitHub
is down."""

from __future__ import annotations

import pytest

from copilot_proxy.operator import handlers
from testkit.fake_github import FakeGitHub
from testkit.fake_github.catalog import next_month
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.operator.conftest import (
    CPX,
    TOKEN,
    children,
    condition,
    fill_token,
    proxy,
    reasons,
    reconciled_since,
    reconciles,
    rendered,
    settled,
)

NS = "default"
CHAIN = ["claude-opus-4.6", "grok-code-fast-1", "gpt-9", "gpt-5.1-codex"]


def _models(cluster: KubeCluster) -> dict[str, str]:
    return condition(cluster.get(CPX, NS, "copilot"), "ModelsAvailable")


def _info(cluster: KubeCluster) -> dict[str, dict[str, object]]:
    config = rendered(children(cluster, NS, "copilot")["configmap"])
    return {e["model_name"]: e.get("model_info", {}) for e in config["model_list"]}


async def _signed_in(cluster: KubeCluster, gh: FakeGitHub) -> None:
    gh.add_account(TOKEN, login="octocat")
    cluster.create(proxy("copilot", models=[{"name": m} for m in CHAIN]))
    await settled(cluster, NS, "copilot")
    assert _models(cluster)["reason"] == "WaitingForLogin"
    assert gh.catalogue_calls == 0  # nothing to read with before sign-in
    fill_token(cluster, NS, "copilot-github-token", TOKEN)
    await wait_for(lambda: _models(cluster).get("status") == "False", message="catalogue read")


async def test_sign_in_reads_the_catalogue_into_status_and_config(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub
) -> None:
    await _signed_in(cluster, fake_github)
    cond = _models(cluster)
    assert cond["reason"] == "ModelsUnavailable"
    assert (
        "grok-code-fast-1 is not enabled for this account: enable it at"
        " https://github.com/settings/copilot/features" in cond["message"]
    )
    assert "gpt-9 is not offered to this account" in cond["message"]
    assert "claude-opus-4.6" not in cond["message"]
    # An event too; kopf posts events from a queue of its own, after the status patch.
    await wait_for(lambda: "ModelsUnavailable" in reasons(cluster, NS, "copilot"), message="event")
    info = _info(cluster)
    limits = {"max_input_tokens": 128000, "max_output_tokens": 64000}
    assert info["claude-opus-4.6"] == info["github_copilot/claude-opus-4.6"] == info["*"] == limits
    assert info["gpt-5.1-codex"]["mode"] == "responses"
    status = cluster.get(CPX, NS, "copilot")["status"]["catalogue"]  # type: ignore[index]
    assert status["quotaResetDate"] == next_month()
    assert {m["name"]: m["state"] for m in status["models"]} == {
        "claude-opus-4.6": "Available",
        "grok-code-fast-1": "NotEnabled",
        "gpt-9": "Missing",
        "gpt-5.1-codex": "Available",
        "text-embedding-3-small": "Available",
    }
    # The Copilot key went to the account's endpoints.api, the token to GitHub only.
    models = [r for r in fake_github.requests if r.path == "/models"]
    assert models and models[0].headers["authorization"].startswith("Bearer tid=")
    assert TOKEN not in str(cluster.get(CPX, NS, "copilot"))


async def test_one_read_per_period_and_github_down_keeps_the_config(
    cluster: KubeCluster,
    operator: KopfOperator,
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _signed_in(cluster, fake_github)
    before = cluster.get(CPX, NS, "copilot")["status"]["configHash"]  # type: ignore[index]
    reads = fake_github.catalogue_calls
    assert reads == 1
    # Resyncs every second (conftest) within the period: no second read.
    await reconciled_since(reconciles(), count=3)
    assert fake_github.catalogue_calls == reads
    # Period over, GitHub failing: condition Unknown, the last good observation kept.
    fake_github.catalogue_error = 503
    assert handlers._catalogue is not None
    handlers._catalogue.period = 0.5  # as COPILOT_PROXY_CATALOGUE_SECONDS would
    await wait_for(
        lambda: _models(cluster).get("reason") == "CatalogueUnreachable", message="unreachable"
    )
    cond = _models(cluster)
    assert cond["status"] == "Unknown"
    assert "Copilot answered HTTP 503 to GET /models." in cond["message"]
    assert "grok-code-fast-1 is not enabled" in cond["message"]
    cpx = cluster.get(CPX, NS, "copilot")
    assert cpx["status"]["configHash"] == before  # type: ignore[index]
    assert _info(cluster)["claude-opus-4.6"]["max_input_tokens"] == 128000
    assert children(cluster, NS, "copilot")["deployment"]["spec"]["replicas"] == 1
    # GitHub back: the condition is False again with what it says now.
    fake_github.catalogue_error = None
    fake_github.models["grok-code-fast-1"].policy = "enabled"
    await wait_for(lambda: _models(cluster).get("reason") == "ModelsUnavailable", message="back")
    assert "grok-code-fast-1" not in _models(cluster)["message"]
