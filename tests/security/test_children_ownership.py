"""Rule 1 of issue 11, the other children: a proxy's ConfigMap, master-key Secret, Deployment
and Service are named after it, so its author picks their names. A proxy named like another
application's objects must not rewrite them (nor take that application's key as its own):
the operator changes only objects the proxy owns and reports the conflict.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testkit.fake_github import FakeGitHub
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from tests.security.harness import (
    NS,
    b64,
    condition,
    full_reads,
    login_service,
    proxy,
    running_operator,
    settled,
)

Obj = dict[str, Any]
APP_KEY = "sk-billing-app-key-0123456789abcdefghijklmnopqrstuvwx"


@pytest.fixture
def operator(kube_api: KubeCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[KopfOperator]:
    with running_operator(monkeypatch) as running:
        yield running


def foreign(kind: str, name: str, body: Obj) -> Obj:
    """Another application's object in team-a."""
    api = "apps/v1" if kind == "Deployment" else "v1"
    meta = {"name": name, "namespace": NS, "labels": {"app": "billing"}}
    return {"apiVersion": api, "kind": kind, "metadata": meta, **body}


SERVICE = foreign(
    "Service",
    "billing",
    {"spec": {"selector": {"app": "billing"}, "ports": [{"name": "web", "port": 8080}]}},
)
CONFIG = foreign("ConfigMap", "billing-litellm-config", {"data": {"config.yaml": "db: prod\n"}})
DEPLOYMENT = foreign(
    "Deployment",
    "billing-litellm",
    {
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "billing"}},
            "template": {
                "metadata": {"labels": {"app": "billing"}},
                "spec": {"containers": [{"name": "web", "image": "billing:1"}]},
            },
        }
    },
)
MASTER_KEY = foreign("Secret", "billing-master-key", {"type": "Opaque", "data": {}})
KEYED = foreign("Secret", "billing-master-key", {"type": "Opaque", "data": {"master-key": ""}})


@pytest.mark.parametrize(
    "taken",
    [SERVICE, CONFIG, DEPLOYMENT, MASTER_KEY],
    ids=["service", "configmap", "deployment", "master-key-secret"],
)
async def test_a_proxy_named_like_another_apps_objects_changes_none_of_them(
    kube_api: KubeCluster, operator: KopfOperator, taken: Obj
) -> None:
    kind, name = taken["kind"], taken["metadata"]["name"]
    kube_api.create(taken)
    kube_api.create(proxy("billing", replicas=2))
    await settled(kube_api, "billing", deployment=False)

    assert len(kube_api.history(kind, NS, name)) == 1, f"{kind} {name} was changed"
    ready = condition(kube_api, "billing", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "NameConflict")
    assert f"{kind} {NS}/{name}" in ready["message"] and "Rename" in ready["message"]
    # Nothing else is made while the proxy cannot have its names.
    made = [
        kube_api.get(k, NS, n)
        for k, n in [
            ("Service", "billing"),
            ("ConfigMap", "billing-litellm-config"),
            ("Deployment", "billing-litellm"),
            ("Secret", "billing-github-token"),
            ("Secret", "billing-master-key"),
        ]
        if n != name
    ]
    assert made == [None] * len(made)


async def test_the_conflict_clears_when_the_other_object_goes(
    kube_api: KubeCluster, operator: KopfOperator
) -> None:
    kube_api.create(SERVICE)
    kube_api.create(proxy("billing"))
    await settled(kube_api, "billing", deployment=False)
    assert condition(kube_api, "billing", "Ready")["reason"] == "NameConflict"
    kube_api.delete("Service", NS, "billing")
    cpx = await settled(kube_api, "billing")
    service = kube_api.get("Service", NS, "billing")
    assert service is not None
    assert service["metadata"]["ownerReferences"][0]["uid"] == cpx["metadata"]["uid"]


async def test_another_apps_key_does_not_unlock_the_proxy_named_after_it(
    kube_api: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub
) -> None:
    """`billing-master-key` of another application holds a `master-key`: a proxy named
    `billing` must not run with it nor let it unlock the login page."""
    kube_api.create({**KEYED, "data": {"master-key": b64(APP_KEY)}})
    kube_api.create(proxy("billing"))
    await settled(kube_api, "billing", deployment=False)
    async with login_service(fake_github) as server:
        holder = server.client(headers={"authorization": f"Bearer {APP_KEY}"})
        answer = await holder.post(f"/api/proxies/{NS}/billing/login")
    assert answer.status_code == 401, answer.text
    assert full_reads(kube_api, "billing-master-key", client="copilot-proxy-auth") == []
    assert kube_api.get("Deployment", NS, "billing-litellm") is None
    assert condition(kube_api, "billing", "Ready")["reason"] == "NameConflict"
