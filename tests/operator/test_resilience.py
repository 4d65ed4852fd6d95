"""Restarts, API faults and scope: the operator ends converged, with nothing duplicated."""

from __future__ import annotations

import asyncio

import pytest

from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.operator.conftest import (
    CPX,
    TOKEN,
    children,
    condition,
    fill_token,
    master_key,
    model_names,
    proxy,
    reconciled_since,
    reconciles,
    rendered,
    settled,
    template_annotations,
)

NS = "default"
CHILDREN = (
    ("ConfigMap", "copilot-litellm-config"),
    ("Secret", "copilot-master-key"),
    ("Secret", "copilot-github-token"),
    ("Deployment", "copilot-litellm"),
    ("Service", "copilot"),
)


def created_once(cluster: KubeCluster, namespace: str = NS) -> None:
    """Every child exists and was created exactly once (never deleted and made again)."""
    for kind, name in CHILDREN:
        history = cluster.history(kind, namespace, name)
        assert history and None not in history, (kind, name, len(history))


async def converged(cluster: KubeCluster, namespace: str = NS, replicas: int = 1) -> None:
    await settled(cluster, namespace, "copilot")
    await wait_for(
        lambda: (
            (cluster.get("Deployment", namespace, "copilot-litellm") or {})["spec"]["replicas"]
            == replicas
        ),
        message="replicas",
    )


async def test_restart_mid_way_leaves_no_duplicates(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    # The first run stops half-way: it may not create Deployments (say, RBAC is incomplete).
    broken = cluster.fail("create", "Deployment", status=403, times=None, message="forbidden")
    cluster.create(proxy("copilot"))
    await wait_for(lambda: cluster.get("Service", NS, "copilot"), message="first children")
    await wait_for(lambda: broken.hits >= 1)
    key = master_key(cluster, NS, "copilot")
    assert cluster.get("Deployment", NS, "copilot-litellm") is None
    operator.stop()

    cluster.clear_faults()
    fill_token(cluster, NS, "copilot-github-token", TOKEN)  # a login while it was down
    operator.start()
    await converged(cluster)
    created_once(cluster)
    assert master_key(cluster, NS, "copilot") == key

    # A restart of a converged operator writes nothing to the children.
    before = {name: len(cluster.history(kind, NS, name)) for kind, name in CHILDREN}
    mark = reconciles()
    operator.restart()
    await reconciled_since(mark, 1)  # the resume
    after = {name: len(cluster.history(kind, NS, name)) for kind, name in CHILDREN}
    assert after == before
    assert master_key(cluster, NS, "copilot") == key


async def test_server_errors_on_create_are_retried(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    refused = cluster.fail("create", "ConfigMap", status=500, times=2)
    lost = cluster.fail("create", "Deployment", status=500, commit=True)  # stored, answer lost
    cluster.create(proxy("copilot"))
    await converged(cluster, replicas=0)
    assert (refused.hits, lost.hits) == (2, 1)
    created_once(cluster)
    assert condition(cluster.get(CPX, NS, "copilot"), "ConfigReady")["status"] == "True"


async def test_conflict_on_create_is_resolved(cluster: KubeCluster, operator: KopfOperator) -> None:
    # Another writer won the race: the Service is there, the create answers 409.
    raced = cluster.fail("create", "Service", status=409, commit=True)
    cluster.create(proxy("copilot"))
    await converged(cluster, replicas=0)
    assert raced.hits == 1
    service = cluster.get("Service", NS, "copilot")
    assert service is not None and service["spec"]["ports"][0]["port"] == 4000
    created_once(cluster)


async def test_secrets_whose_create_answer_is_lost_are_written_once(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    # Stored, answer lost: the retry answers 409. The key made first is the key kept.
    key_lost = cluster.fail("create", "Secret", name="copilot-master-key", status=500, commit=True)
    token_raced = cluster.fail(
        "create", "Secret", name="copilot-github-token", status=409, commit=True
    )
    cluster.create(proxy("copilot"))
    await converged(cluster, replicas=0)
    assert (key_lost.hits, token_raced.hits) == (1, 1)
    created_once(cluster)
    assert len(cluster.history("Secret", NS, "copilot-master-key")) == 1, "the key was rewritten"
    assert len(cluster.history("Secret", NS, "copilot-github-token")) == 1


async def test_object_gone_before_its_patch_is_created_again(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    cluster.create(proxy("copilot"))
    await converged(cluster, replicas=0)
    # The patch of the ConfigMap is slow; the ConfigMap is deleted meanwhile: the patch gets 404.
    slow = cluster.fail("update", "ConfigMap", name="copilot-litellm-config", status=None, delay=1)
    cluster.patch(CPX, NS, "copilot", {"spec": {"models": [{"name": "gpt-5-mini"}]}})
    await wait_for(lambda: slow.hits == 1, message="the patch started")
    cluster.delete("ConfigMap", NS, "copilot-litellm-config")

    def new_config() -> bool:
        config = cluster.get("ConfigMap", NS, "copilot-litellm-config")
        return config is not None and model_names(rendered(config))[0] == "gpt-5-mini"

    await wait_for(new_config, timeout=15, message="the new config, created again")
    deployment = cluster.get("Deployment", NS, "copilot-litellm")
    status = (cluster.get(CPX, NS, "copilot") or {})["status"]
    await wait_for(
        lambda: (
            template_annotations(cluster.get("Deployment", NS, "copilot-litellm"))[
                "copilot-proxy.dev/config-hash"
            ]
            == (cluster.get(CPX, NS, "copilot") or {})["status"]["configHash"]
        )
    )
    assert deployment is not None and status


@pytest.mark.parametrize(
    ("action", "kind", "subresource"),
    [
        ("update", "CopilotProxy", "status"),  # the status patch
        ("fetch", "CopilotProxy", None),  # the read of the resource
        ("fetch", "Secret", None),  # the read of the token
    ],
)
async def test_transient_errors_and_slow_answers_end_converged(
    cluster: KubeCluster,
    operator: KopfOperator,
    action: str,
    kind: str,
    subresource: str | None,
) -> None:
    cluster.create(proxy("copilot"))
    await converged(cluster, replicas=0)
    errors = cluster.fail(action, kind, subresource=subresource, status=500, times=2)
    throttled = cluster.fail(action, kind, subresource=subresource, status=429, times=1)
    slow = cluster.fail(action, kind, subresource=subresource, status=None, delay=1, times=1)
    fill_token(cluster, NS, "copilot-github-token", TOKEN)
    # Every fault strikes (a reconcile already under way may finish first), then it converges.
    await wait_for(lambda: (errors.hits, throttled.hits, slow.hits) == (2, 1, 1), timeout=15)
    await wait_for(
        lambda: condition(cluster.get(CPX, NS, "copilot"), "TokenReady")["status"] == "True",
        timeout=15,
    )
    await converged(cluster, replicas=1)
    created_once(cluster)


async def test_namespaced_operator_serves_its_namespaces_only(
    cluster: KubeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot_proxy.operator.handlers import registry

    monkeypatch.setenv("COPILOT_PROXY_NAMESPACED", "1")
    cluster.create(proxy("copilot", "mine"))
    cluster.create(proxy("copilot", "theirs"))
    with KopfOperator(registry, namespaces=["mine"]):
        await converged(cluster, "mine", replicas=0)
        await asyncio.sleep(0.5)  # time enough to (wrongly) act on the other namespace
    assert not any(children(cluster, "theirs", "copilot").values())
    theirs = cluster.get(CPX, "theirs", "copilot")
    assert theirs is not None and "status" not in theirs
    assert not (theirs["metadata"].get("annotations") or {})
