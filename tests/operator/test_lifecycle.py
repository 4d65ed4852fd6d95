"""A CopilotProxy's life as a user sees it: apply, log in, change the chain, break things."""

from __future__ import annotations

import re

from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.operator.conftest import (
    CHAIN,
    CPX,
    IMAGE,
    LOGIN_HINT,
    OTHER_TOKEN,
    TOKEN,
    TOKEN_HASH,
    b64,
    children,
    condition,
    fill_token,
    master_key,
    model_names,
    proxy,
    reasons,
    reconciled_since,
    reconciles,
    rendered,
    settled,
    template_annotations,
)

NS = "default"


async def test_children_are_created_and_owned(cluster: KubeCluster, operator: KopfOperator) -> None:
    cpx = cluster.create(proxy("copilot"))
    await settled(cluster, NS, "copilot")
    kids = children(cluster, NS, "copilot")
    assert all(kids.values()), {k: v is not None for k, v in kids.items()}

    for kind, child in kids.items():
        assert child is not None
        refs = child["metadata"].get("ownerReferences") or []
        assert [(r["kind"], r["name"], r["uid"], r.get("controller")) for r in refs] == [
            (CPX, "copilot", cpx["metadata"]["uid"], True)
        ], kind
        assert child["metadata"]["labels"]["copilot-proxy.dev/proxy"] == "copilot"

    config = rendered(kids["configmap"])
    for model in CHAIN:
        assert model in model_names(config) and f"github_copilot/{model}" in model_names(config)
    deployment = kids["deployment"]
    assert deployment is not None
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE
    assert deployment["spec"]["replicas"] == 0, "no token yet: no pods"
    annotations = template_annotations(deployment)
    assert annotations["copilot-proxy.dev/config-hash"]
    service = kids["service"]
    assert service is not None
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("http", 4000)]
    assert re.fullmatch(r"sk-[A-Za-z0-9_-]{48}", master_key(cluster, NS, "copilot"))
    assert (kids["token"] or {}).get("data") in (None, {})

    # The status tells the user how to log in; Ready says why it is not ready.
    live = cluster.get(CPX, NS, "copilot")
    ready = condition(live, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "WaitingForLogin")
    assert LOGIN_HINT in ready["message"] and "copilot-github-token" in ready["message"]
    assert live is not None and live["status"]["endpoint"] == "http://copilot.default.svc:4000"
    await wait_for(lambda: "WaitingForLogin" in reasons(cluster, NS, "copilot"))
    involved = {e["involvedObject"]["uid"] for e in cluster.events(NS, "copilot")}
    assert involved == {cpx["metadata"]["uid"]}, "events are about the CopilotProxy"

    # Deleting the CopilotProxy takes its children with it (owner references are right).
    cluster.delete(CPX, NS, "copilot")
    await wait_for(lambda: not any(children(cluster, NS, "copilot").values()))


async def test_chain_change_renders_new_config_and_rolls_pods(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    cluster.create(proxy("copilot"))
    await settled(cluster, NS, "copilot")
    before = children(cluster, NS, "copilot")
    old_hash = template_annotations(before["deployment"])["copilot-proxy.dev/config-hash"]

    chain = [{"name": "gpt-5-mini"}, {"name": "claude-sonnet-4.5"}]
    cluster.patch(CPX, NS, "copilot", {"spec": {"models": chain}})

    def new_hash() -> str:
        deployment = cluster.get("Deployment", NS, "copilot-litellm")
        value = template_annotations(deployment)["copilot-proxy.dev/config-hash"]
        return value if value != old_hash else ""

    hash_now = await wait_for(new_hash, timeout=5)
    config = rendered(cluster.get("ConfigMap", NS, "copilot-litellm-config"))
    assert "claude-sonnet-4.5" in model_names(config)
    assert "claude-opus-4.6" not in model_names(config)
    assert {"gpt-5-mini": ["claude-sonnet-4.5"]} in config["router_settings"]["fallbacks"]
    await wait_for(
        lambda: (cluster.get(CPX, NS, "copilot") or {})["status"]["configHash"] == hash_now
    )
    await wait_for(lambda: "ConfigChanged" in reasons(cluster, NS, "copilot"))


async def test_token_arrival_scales_up_and_a_new_token_rolls(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    cluster.create(proxy("copilot", replicas=2))
    await settled(cluster, NS, "copilot")
    deployment = cluster.get("Deployment", NS, "copilot-litellm")
    assert deployment is not None and deployment["spec"]["replicas"] == 0
    config_hash = template_annotations(deployment)["copilot-proxy.dev/config-hash"]

    fill_token(cluster, NS, "copilot-github-token", TOKEN)
    deployment = await wait_for(
        lambda: (
            (d := cluster.get("Deployment", NS, "copilot-litellm"))
            and d["spec"]["replicas"] == 2
            and d
        ),
        timeout=3,  # "within seconds"
    )
    first = template_annotations(deployment)
    assert first["copilot-proxy.dev/token-hash"], "the pods must roll when a token arrives"
    assert first["copilot-proxy.dev/config-hash"] == config_hash
    await wait_for(
        lambda: condition(cluster.get(CPX, NS, "copilot"), "TokenReady")["status"] == "True"
    )

    # The kubelet reports the pods ready: the proxy is Ready and says where it serves.
    cluster.set_deployment_ready(NS, "copilot-litellm")
    await wait_for(lambda: condition(cluster.get(CPX, NS, "copilot"), "Ready")["status"] == "True")
    live = cluster.get(CPX, NS, "copilot")
    assert condition(live, "ProxyAvailable")["status"] == "True"
    assert "http://copilot.default.svc:4000" in condition(live, "Ready")["message"]
    assert live is not None and live["status"]["readyReplicas"] == 2

    # A new login replaces the token: new pods, same config.
    fill_token(cluster, NS, "copilot-github-token", OTHER_TOKEN)

    def rolled() -> dict[str, str]:
        now = template_annotations(cluster.get("Deployment", NS, "copilot-litellm"))
        return now if now[TOKEN_HASH] != first[TOKEN_HASH] else {}

    second = await wait_for(rolled, timeout=3)
    assert second["copilot-proxy.dev/config-hash"] == config_hash
    await wait_for(lambda: "TokenReplaced" in reasons(cluster, NS, "copilot"))


async def test_unrelated_changes_do_not_roll_pods(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    manifest = proxy("copilot")
    cluster.create(manifest)
    await settled(cluster, NS, "copilot")
    fill_token(cluster, NS, "copilot-github-token", TOKEN)
    await wait_for(
        lambda: (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["replicas"] == 1
    )
    await wait_for(
        lambda: condition(cluster.get(CPX, NS, "copilot"), "TokenReady")["status"] == "True"
    )
    baseline = len(cluster.history("Deployment", NS, "copilot-litellm"))
    template = (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["template"]
    others = [
        ("ConfigMap", "copilot-litellm-config"),
        ("Service", "copilot"),
        ("Secret", "copilot-master-key"),
        ("Secret", "copilot-github-token"),
    ]
    before = [len(cluster.history(kind, NS, name)) for kind, name in others]

    # A label on the CR, a status written by someone else, the same manifest applied again,
    # and the kubelet's status updates of the Deployment.
    mark = reconciles()
    cluster.patch(CPX, NS, "copilot", {"metadata": {"labels": {"team": "ai"}}})
    cluster.patch(CPX, NS, "copilot", {"status": {"note": "hello"}}, subresource="status")
    cluster.apply(manifest)
    cluster.set_deployment_ready(NS, "copilot-litellm")
    await reconciled_since(mark, 2)  # the label's and the kubelet's

    versions = cluster.history("Deployment", NS, "copilot-litellm")[baseline:]
    assert len(versions) == 1, "only the kubelet's status update; the operator wrote nothing"
    assert versions[0] is not None and versions[0]["spec"]["template"] == template
    # Nor does it rewrite the rest (the API server's defaults are not drift).
    assert [len(cluster.history(kind, NS, name)) for kind, name in others] == before
    assert cluster.get(CPX, NS, "copilot")["metadata"]["generation"] == 1  # type: ignore[index]


async def test_drift_is_healed(cluster: KubeCluster, operator: KopfOperator) -> None:
    cluster.create(proxy("copilot"))
    await settled(cluster, NS, "copilot")
    declared = children(cluster, NS, "copilot")
    assert declared["configmap"] is not None and declared["deployment"] is not None
    key = master_key(cluster, NS, "copilot")

    cluster.delete("ConfigMap", NS, "copilot-litellm-config")
    healed = await wait_for(lambda: cluster.get("ConfigMap", NS, "copilot-litellm-config"))
    assert healed is not None and healed["data"] == declared["configmap"]["data"]

    cluster.patch("ConfigMap", NS, "copilot-litellm-config", {"data": {"config.yaml": "{}"}})
    await wait_for(
        lambda: (
            (cluster.get("ConfigMap", NS, "copilot-litellm-config") or {})["data"]
            == declared["configmap"]["data"]
        )
    )

    image_patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "litellm", "image": "evil:1"}]}}}
    }
    cluster.patch("Deployment", NS, "copilot-litellm", image_patch)

    def image() -> str:
        deployment = cluster.get("Deployment", NS, "copilot-litellm") or {}
        return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])

    await wait_for(lambda: image() == IMAGE)
    assert (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["template"] == (
        declared["deployment"]["spec"]["template"]
    )

    cluster.patch("Deployment", NS, "copilot-litellm", {"spec": {"replicas": 5}})  # kubectl scale
    await wait_for(
        lambda: (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["replicas"] == 0
    )

    cluster.delete("Service", NS, "copilot")
    service = await wait_for(lambda: cluster.get("Service", NS, "copilot"))
    assert service["spec"] == declared["service"]["spec"]  # type: ignore[index]

    cluster.delete("Deployment", NS, "copilot-litellm")
    await wait_for(lambda: cluster.get("Deployment", NS, "copilot-litellm"))
    assert master_key(cluster, NS, "copilot") == key, "healing must not change the master key"


async def test_bad_resource_names_the_field_and_others_keep_working(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    bad = proxy("bad", routes=[{"name": "fast", "models": ["o3-pro"]}])
    cluster.create(bad)
    cluster.create(proxy("good"))

    await wait_for(
        lambda: condition(cluster.get(CPX, NS, "bad"), "Ready").get("reason") == "InvalidSpec"
    )
    live = cluster.get(CPX, NS, "bad")
    ready = condition(live, "Ready")
    assert ready["status"] == "False"
    assert "spec.routes" in ready["message"] and "models" in ready["message"], ready["message"]
    assert condition(live, "ConfigReady")["status"] == "False"
    await wait_for(lambda: "InvalidSpec" in reasons(cluster, NS, "bad"))

    # The other proxy, in the same run, is served as usual and reacts to its token.
    await settled(cluster, NS, "good")
    fill_token(cluster, NS, "good-github-token", TOKEN)
    await wait_for(
        lambda: (cluster.get("Deployment", NS, "good-litellm") or {})["spec"]["replicas"] == 1,
        timeout=3,
    )
    # No crash loop: the bad one still stands where it stood, and fixing it makes it served.
    assert operator.running
    cluster.patch(
        CPX, NS, "bad", {"spec": {"routes": [{"name": "fast", "models": ["gpt-5-mini"]}]}}
    )
    await settled(cluster, NS, "bad")
    assert "fast" in model_names(rendered(cluster.get("ConfigMap", NS, "bad-litellm-config")))


async def test_a_bad_change_keeps_the_running_proxy(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    cluster.create(proxy("copilot"))
    await settled(cluster, NS, "copilot")
    fill_token(cluster, NS, "copilot-github-token", TOKEN)
    await wait_for(
        lambda: (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["replicas"] == 1
    )
    good = children(cluster, NS, "copilot")

    # A typo: a route to a model outside the chain. The running proxy must not go down.
    bad = {"routes": [{"name": "fast", "models": ["gpt-5-mni"]}], "replicas": 3}
    cluster.patch(CPX, NS, "copilot", {"spec": bad})
    await wait_for(
        lambda: condition(cluster.get(CPX, NS, "copilot"), "Ready").get("reason") == "InvalidSpec"
    )
    ready = condition(cluster.get(CPX, NS, "copilot"), "Ready")
    assert "spec.routes[0].models[0]" in ready["message"] and "gpt-5-mni" in ready["message"]
    now = children(cluster, NS, "copilot")
    assert now["configmap"]["data"] == good["configmap"]["data"]
    assert now["deployment"]["spec"] == good["deployment"]["spec"]


async def test_two_proxies_can_share_one_login(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    # The user's own Secret, marked for both proxies (docs/kubernetes.md).
    marked = {"copilot-proxy.dev/token-for": "fast,smart"}
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "shared", "annotations": marked},
        },
        NS,
    )
    for name in ("fast", "smart"):
        cluster.create(proxy(name, tokenSecret={"name": "shared"}))
        await settled(cluster, NS, name)
    fill_token(cluster, NS, "shared", TOKEN)

    def both_scaled() -> bool:
        deployments = [cluster.get("Deployment", NS, f"{n}-litellm") for n in ("fast", "smart")]
        return all(d is not None and d["spec"]["replicas"] == 1 for d in deployments)

    await wait_for(both_scaled, timeout=3, message="both proxies scaled up")
    # The operator never writes the user's Secret: no label, no owner, no adoption.
    mark = reconciles()
    await reconciled_since(mark, 2)  # the resync visited both
    versions = cluster.history("Secret", NS, "shared")
    assert len(versions) == 2, "created, then filled by the user: nothing else"
    assert versions[-1] is not None and "labels" not in versions[-1]["metadata"]


async def test_two_namespaces_are_kept_apart(cluster: KubeCluster, operator: KopfOperator) -> None:
    a = cluster.create(proxy("copilot", "team-a"))
    b = cluster.create(proxy("copilot", "team-b", models=[{"name": "gpt-5-mini"}]))
    await settled(cluster, "team-a", "copilot")
    await settled(cluster, "team-b", "copilot")
    for ns, cpx in (("team-a", a), ("team-b", b)):
        for child in children(cluster, ns, "copilot").values():
            assert child is not None and child["metadata"]["namespace"] == ns
            assert child["metadata"]["ownerReferences"][0]["uid"] == cpx["metadata"]["uid"]
    assert model_names(rendered(cluster.get("ConfigMap", "team-b", "copilot-litellm-config")))[
        0
    ] == ("gpt-5-mini")
    assert master_key(cluster, "team-a", "copilot") != master_key(cluster, "team-b", "copilot")

    # A login in one namespace starts that proxy only.
    fill_token(cluster, "team-a", "copilot-github-token", TOKEN)
    await wait_for(
        lambda: (
            (cluster.get("Deployment", "team-a", "copilot-litellm") or {})["spec"]["replicas"] == 1
        )
    )
    assert (cluster.get("Deployment", "team-b", "copilot-litellm") or {})["spec"]["replicas"] == 0
    assert condition(cluster.get(CPX, "team-b", "copilot"), "TokenReady")["status"] == "False"

    # Deleting one leaves the other alone.
    cluster.delete(CPX, "team-a", "copilot")
    await wait_for(lambda: not any(children(cluster, "team-a", "copilot").values()))
    assert all(children(cluster, "team-b", "copilot").values())


async def test_an_existing_token_is_never_overwritten(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    # The login service (or a user) made the Secret before the CopilotProxy existed.
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "my-token",
            "annotations": {
                "copilot-proxy.dev/login": "octocat",
                "copilot-proxy.dev/token-for": "copilot",
            },
        },
        "data": {"access-token": b64(TOKEN)},
    }
    cluster.create(secret, NS)
    cluster.create(proxy("copilot", replicas=2, tokenSecret={"name": "my-token"}))
    await settled(cluster, NS, "copilot")
    assert (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["replicas"] == 2
    assert cluster.get("Secret", NS, "copilot-github-token") is None, "no second token Secret"
    live = cluster.get(CPX, NS, "copilot")
    assert condition(live, "TokenReady")["status"] == "True"
    assert "octocat" in condition(live, "TokenReady")["message"]

    cluster.patch(CPX, NS, "copilot", {"spec": {"models": [{"name": "gpt-5-mini"}]}})
    await settled(cluster, NS, "copilot")
    for version in cluster.history("Secret", NS, "my-token"):
        assert version is not None and version["data"] == {"access-token": b64(TOKEN)}
    volumes = (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["template"]["spec"][
        "volumes"
    ]
    assert {"my-token"} == {v["secret"]["secretName"] for v in volumes if "secret" in v}
    token = cluster.get("Secret", NS, "my-token")
    assert token is not None
    assert "ownerReferences" not in token["metadata"], "deleting the proxy must not delete it"
    assert token["metadata"]["annotations"]["copilot-proxy.dev/login"] == "octocat"


async def test_master_key_is_generated_once_and_kept(
    cluster: KubeCluster, operator: KopfOperator
) -> None:
    cluster.create(proxy("copilot"))
    await settled(cluster, NS, "copilot")
    key = master_key(cluster, NS, "copilot")
    for replicas in (2, 3):
        cluster.patch(CPX, NS, "copilot", {"spec": {"replicas": replicas}})
        await settled(cluster, NS, "copilot")
    assert master_key(cluster, NS, "copilot") == key
    versions = cluster.history("Secret", NS, "copilot-master-key")
    assert None not in versions
    assert {v["data"]["master-key"] for v in versions if v is not None} == {b64(key)}, (
        "the key was rewritten"
    )
