"""The emulator itself, and the real kopf against it with a tiny registry of its own."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import httpx
import kopf
import pytest

from testkit.kube import ApiError, KubeCluster, label_selector
from testkit.waiting import wait_for, wait_for_sync

CPX = "CopilotProxy"


def proxy(name: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "copilot-proxy.dev/v1alpha1",
        "kind": CPX,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"models": [{"name": "gpt-5-mini"}], **spec},
    }


def test_discovery_serves_the_real_crd(kube_cluster: KubeCluster) -> None:
    group = kube_cluster.request("GET", "/apis/copilot-proxy.dev/v1alpha1").json()
    names = {r["name"] for r in group["resources"]}
    assert names == {"copilotproxies", "copilotproxies/status"}
    crd = kube_cluster.get("CustomResourceDefinition", None, "copilotproxies.copilot-proxy.dev")
    assert crd is not None and crd["spec"]["names"]["shortNames"] == ["cpx"]
    assert kube_cluster.resource("cpx") == "copilot-proxy.dev/v1alpha1/copilotproxies"


def test_metadata_generation_and_status_subresource(kube_cluster: KubeCluster) -> None:
    created = kube_cluster.create(proxy("a"))
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1

    # Labels and status do not move the generation; the spec does.
    kube_cluster.patch(CPX, "default", "a", {"metadata": {"labels": {"x": "y"}}})
    kube_cluster.patch(CPX, "default", "a", {"status": {"ok": True}}, subresource="status")
    live = kube_cluster.get(CPX, "default", "a")
    assert live is not None
    assert live["metadata"]["generation"] == 1 and live["status"] == {"ok": True}
    assert int(live["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert live["metadata"]["uid"] == meta["uid"]

    kube_cluster.patch(CPX, "default", "a", {"spec": {"replicas": 3}, "status": {"ok": False}})
    live = kube_cluster.get(CPX, "default", "a")
    assert live is not None
    assert live["metadata"]["generation"] == 2
    assert live["status"] == {"ok": True}, "a patch of the object must not change its status"

    # JSON patches go through the same rules.
    kube_cluster.patch(
        CPX, "default", "a", [{"op": "replace", "path": "/spec/replicas", "value": 1}]
    )
    live = kube_cluster.get(CPX, "default", "a")
    assert live is not None and live["metadata"]["generation"] == 3


def test_json_patch_tests_resource_version(kube_cluster: KubeCluster) -> None:
    version = kube_cluster.create(proxy("v"))["metadata"]["resourceVersion"]
    guarded = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": version},
        {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]},
    ]
    kube_cluster.patch(CPX, "default", "v", guarded)
    with pytest.raises(ApiError) as stale:  # the same guard again: the version moved on
        kube_cluster.patch(CPX, "default", "v", guarded)
    assert stale.value.status == 422  # what kopf expects, to retry on its next cycle


def test_generate_name_conflicts_and_not_found(kube_cluster: KubeCluster) -> None:
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"generateName": "e-"}}
    names = {kube_cluster.create(event, "default")["metadata"]["name"] for _ in range(3)}
    assert len(names) == 3
    kube_cluster.create(proxy("b"))
    with pytest.raises(ApiError) as conflict:
        kube_cluster.create(proxy("b"))
    assert conflict.value.status == 409
    with pytest.raises(ApiError) as missing:
        kube_cluster.patch(CPX, "default", "nope", {"spec": {}})
    assert missing.value.status == 404
    assert kube_cluster.get(CPX, "default", "nope") is None


def test_secret_string_data_is_stored_as_data(kube_cluster: KubeCluster) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}}
    kube_cluster.create({**secret, "stringData": {"a": "x"}}, "default")
    kube_cluster.patch("Secret", "default", "t", {"stringData": {"b": "y"}})
    stored = kube_cluster.get("Secret", "default", "t")
    assert stored is not None and "stringData" not in stored
    assert stored["data"] == {"a": "eA==", "b": "eQ=="}


def test_sync_clients_work_against_it(kube_api: KubeCluster) -> None:
    """The project's own client (as the auth service uses it), from a plain sync test."""
    from copilot_proxy.kube import Kube, object_path

    kube = Kube.from_environment()  # COPILOT_PROXY_KUBE_API, set by the fixture
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "tok", "namespace": "default", "labels": {"a": "b"}},
        "data": {},
    }
    kube.create(secret)
    kube.merge_patch(object_path("v1", "Secret", "default", "tok"), {"data": {"k": "dg=="}})
    assert wait_for_sync(lambda: (kube_api.get("Secret", "default", "tok") or {}).get("data"))
    listing = kube.get(object_path("v1", "Secret", "default"))
    assert listing is not None and [i["metadata"]["name"] for i in listing["items"]] == ["tok"]


def test_label_selectors() -> None:
    labels = {"app": "x", "tier": "web"}
    assert label_selector("app=x,tier")(labels)
    assert label_selector("app==x, !missing")(labels)
    assert not label_selector("app!=x")(labels)
    assert label_selector("tier in (web, db)")(labels)
    assert not label_selector("tier notin (web)")(labels)
    with pytest.raises(ValueError):
        label_selector("app=x=y")


def test_list_filters_by_labels(kube_cluster: KubeCluster) -> None:
    for name, label in (("one", "a"), ("two", "b")):
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"p": label}},
        }
        kube_cluster.create(cm, "default")
    assert [o["metadata"]["name"] for o in kube_cluster.list("cm", "default", {"p": "b"})] == [
        "two"
    ]
    assert len(kube_cluster.list("ConfigMap")) == 2


def test_owner_references_are_garbage_collected(kube_cluster: KubeCluster) -> None:
    owner = kube_cluster.create(proxy("owner"))
    ref = {"apiVersion": "v1", "kind": CPX, "name": "owner", "uid": owner["metadata"]["uid"]}
    child = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "child", "ownerReferences": [ref]},
    }
    kube_cluster.create(child, "default")
    kube_cluster.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "free"}}, "default"
    )
    kube_cluster.delete(CPX, "default", "owner")
    assert kube_cluster.get("ConfigMap", "default", "child") is None
    assert kube_cluster.get("ConfigMap", "default", "free") is not None


def test_faults_before_and_after_commit(kube_cluster: KubeCluster) -> None:
    lost = kube_cluster.fail("create", "ConfigMap", status=500, commit=True)
    refused = kube_cluster.fail("create", "Secret", status=500)
    other = kube_cluster.fail("create", "Service", status=500, agent="kopf")
    cm: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    secret: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    svc: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "v"}}
    with _client(kube_cluster.url) as client:  # the code under test, not the helpers
        for obj in (cm, secret):
            response = client.post(kube_cluster.path(obj["kind"], "default"), json=obj)
            assert response.status_code == 500
        assert client.post(kube_cluster.path("Service", "default"), json=svc).status_code == 201
        assert client.post(kube_cluster.path("Secret", "default"), json=secret).status_code == 201
    assert kube_cluster.get("ConfigMap", "default", "c") is not None  # stored, answer lost
    assert (lost.hits, refused.hits, other.hits) == (1, 1, 0)

    # The helpers' own requests never fail: a test's assertions see the truth.
    kube_cluster.fail("fetch", "ConfigMap", status=500, times=None)
    assert kube_cluster.get("ConfigMap", "default", "c") is not None


# -- the real kopf with a throwaway registry -----------------------------------


async def test_wait_for_says_what_it_waited_for_and_what_it_last_saw() -> None:
    with pytest.raises(AssertionError, match=r"not true within 0.1s: the answer; last value 0"):
        await wait_for(lambda: 0, timeout=0.1, message="the answer")
    with pytest.raises(AssertionError, match=r"within 0.1s: missing; error KeyError\('k'\)"):
        empty: dict[str, int] = {}
        wait_for_sync(lambda: empty["k"], timeout=0.1, message="missing")
    assert await wait_for(lambda: 42, timeout=0.1) == 42
    assert wait_for_sync(lambda: "ok", timeout=0.1) == "ok"


def scratch_registry(url: str) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=url, insecure=True)

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.persistence.finalizer = "copilot-proxy.dev/finalizer"
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
            prefix="copilot-proxy.dev"
        )
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix="copilot-proxy.dev"
        )

    @kopf.on.create(
        "copilot-proxy.dev", "v1alpha1", "copilotproxies", id="created", registry=registry
    )
    def created(
        body: kopf.Body, spec: Any, name: str, namespace: str | None, logger: Any, **_: Any
    ) -> dict[str, Any]:
        child: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{name}-cfg", "namespace": namespace},
            "data": {"models": ",".join(m["name"] for m in spec["models"])},
        }
        kopf.adopt(child, owner=body)
        with _client(url) as http:
            response = http.post(f"/api/v1/namespaces/{namespace}/configmaps", json=child)
            assert response.status_code in (201, 200, 409), response.text
        kopf.info(body, reason="Created", message="made a child")
        logger.info("made a child for %s", name)
        return {"child": child["metadata"]["name"]}

    @kopf.on.event("", "v1", "configmaps", registry=registry)
    def seen(name: str, **_: Any) -> None:
        logging.getLogger("scratch").info("configmap %s seen", name)

    return registry


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=5)


async def test_real_kopf_creates_children_posts_events_and_stops(
    kube_cluster: KubeCluster, kopf_operator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    loop = asyncio.get_running_loop()
    started = loop.time()
    operator = kopf_operator(scratch_registry(kube_cluster.url))
    kube_cluster.create(proxy("p1", models=[{"name": "gpt-5-mini"}, {"name": "claude-opus-4.6"}]))

    cm = await wait_for(lambda: kube_cluster.get("ConfigMap", "default", "p1-cfg"), timeout=5)
    assert cm is not None
    assert cm["data"]["models"] == "gpt-5-mini,claude-opus-4.6"
    owner = kube_cluster.get(CPX, "default", "p1")
    assert owner is not None
    assert cm["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]

    # kopf's state lands under the configured prefix; events are posted.
    await wait_for(lambda: (kube_cluster.get(CPX, "default", "p1") or {})["status"]["created"])
    live = kube_cluster.get(CPX, "default", "p1")
    assert live is not None
    annotations = live["metadata"].get("annotations", {})
    assert "copilot-proxy.dev/last-handled-configuration" in annotations
    assert not any(k.startswith("kopf.zalando.org") for k in annotations)
    await wait_for(
        lambda: any(e["reason"] == "Created" for e in kube_cluster.events("default", "p1"))
    )
    await wait_for(lambda: "configmap p1-cfg seen" in caplog.text)

    operator.stop()
    assert loop.time() - started < 8
    assert not operator.running

    # A restart resumes against the same emulator and does not re-run the create handler.
    operator.start()
    await asyncio.sleep(0.5)
    operator.stop()
    creates = [v for v in kube_cluster.history("ConfigMap", "default", "p1-cfg") if v is not None]
    assert len(creates) == 1
    assert os.environ.get("COPILOT_PROXY_KUBE_API") is None
