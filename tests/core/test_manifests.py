"""The child objects of a CopilotProxy: names, ownership, and a proxy pod that follows
docs/upstream.md (token file, writable key dir, cheap probes,
master key from its Secret, locked down). Each object is also checked against
Kubernetes' own OpenAPI schema, so a misspelled field cannot hide."""

from __future__ import annotations

import base64
import json
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from copilot_proxy.core import manifests, names, token_secret
from copilot_proxy.core.github import GitHub
from copilot_proxy.core.render import config_yaml, render_config
from copilot_proxy.core.rollout import pod_annotations
from copilot_proxy.core.spec import ProxySpec, parse_spec

Obj = dict[str, Any]
OWNER = manifests.owner_reference("copilot", "0b6e4c7a-1111-2222-3333-444455556666")
IMAGE = "ghcr.io/example/copilot-proxy:0.1.0"
MASTER_KEY = "sk-" + "k" * 48


# A GHE.com tenant an administrator allowed; one with its API behind a gateway.
HOSTS = (
    GitHub(),
    GitHub.named("acme.ghe.com"),
    GitHub.named("gw.ghe.com", api_url="https://gw.acme.example/"),
)


def parsed(**fields: Any) -> ProxySpec:
    raw = {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}], **fields}
    return parse_spec("copilot", "team-a", raw, HOSTS)


def deployment(spec: ProxySpec | None = None, replicas: int = 1) -> Obj:
    return manifests.deployment(
        spec or parsed(),
        image=IMAGE,
        replicas=replicas,
        pod_annotations=pod_annotations("cfg0123456789abc", "tok0123456789abc"),
        owner=OWNER,
    )


def children(spec: ProxySpec) -> list[Obj]:
    return [
        manifests.config_map(spec, config_yaml(render_config(spec)), OWNER),
        manifests.master_key_secret(spec, MASTER_KEY, OWNER),
        token_secret.empty(spec, OWNER),
        manifests.service(spec, OWNER),
        deployment(spec),
    ]


def container(dep: Obj) -> Obj:
    (only,) = dep["spec"]["template"]["spec"]["containers"]
    c: Obj = only
    return c


def env(dep: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in container(dep)["env"]}


def volume_for(dep: Obj, mount_path: str) -> Obj:
    mount = next(m for m in container(dep)["volumeMounts"] if m["mountPath"] == mount_path)
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    return {**volumes[mount["name"]], "readOnly": mount.get("readOnly", False)}


# --- names, labels, owners --------------------------------------------------------------


def test_children_have_the_contract_names_labels_and_owner() -> None:
    objs = children(parsed())
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("ConfigMap", "copilot-litellm-config"),
        ("Secret", "copilot-master-key"),
        ("Secret", "copilot-github-token"),
        ("Service", "copilot"),
        ("Deployment", "copilot-litellm"),
    ]
    for obj in objs:
        meta = obj["metadata"]
        assert meta["namespace"] == "team-a"
        assert meta["labels"] == {
            "app.kubernetes.io/name": "litellm-proxy",
            "app.kubernetes.io/instance": "copilot",
            "app.kubernetes.io/managed-by": "copilot-proxy-operator",
            "copilot-proxy.dev/proxy": "copilot",
        }
        assert meta["ownerReferences"] == [OWNER]


def test_owner_reference_lets_kubernetes_collect_the_children() -> None:
    assert {k: OWNER[k] for k in ("apiVersion", "kind", "name", "uid", "controller")} == {
        "apiVersion": "copilot-proxy.dev/v1alpha1",
        "kind": "CopilotProxy",
        "name": "copilot",
        "uid": "0b6e4c7a-1111-2222-3333-444455556666",
        "controller": True,
    }


def test_children_can_be_built_without_owner_for_the_local_mode() -> None:
    spec = parsed()
    for obj in (
        manifests.config_map(spec, "x", None),
        manifests.master_key_secret(spec, MASTER_KEY, None),
        token_secret.empty(spec, None),
        manifests.service(spec, None),
        manifests.deployment(spec, image=IMAGE, replicas=1, pod_annotations={}, owner=None),
    ):
        assert "ownerReferences" not in obj["metadata"]


@pytest.mark.parametrize("version", ["1.28.0", latest_version()])
def test_children_match_the_kubernetes_schemas(version: str) -> None:
    spec = parsed(
        resources={"requests": {"cpu": 1, "memory": "1Gi"}}, image="registry.example.com/p:1"
    )
    for obj in children(spec):
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_schema_check_would_catch_a_misspelled_field() -> None:
    dep = deployment()
    container(dep)["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, latest_version(), strict=True)


# --- ConfigMap, Secrets, Service -------------------------------------------------------


def test_config_map_holds_the_rendered_config() -> None:
    cm = manifests.config_map(parsed(), "model_list: []\n", OWNER)
    assert cm["data"] == {"config.yaml": "model_list: []\n"}


def test_master_key_secret_holds_the_key_base64() -> None:
    secret = manifests.master_key_secret(parsed(), MASTER_KEY, OWNER)
    assert base64.b64decode(secret["data"]["master-key"]).decode() == MASTER_KEY


def test_service_exposes_port_4000_to_the_proxy_pods() -> None:
    svc = manifests.service(parsed(), OWNER)
    assert svc["spec"]["ports"] == [
        {"name": "http", "port": 4000, "targetPort": "http", "protocol": "TCP"}
    ]
    pod_labels = deployment()["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items()


# --- the proxy pod ----------------------------------------------------------------------


def test_proxy_runs_litellm_with_the_mounted_config() -> None:
    dep = deployment()
    c = container(dep)
    command = [*c["command"], *c["args"]]
    assert command[0] == "litellm"
    assert command[command.index("--config") + 1] == "/etc/litellm/config.yaml"
    assert command[command.index("--port") + 1] == "4000"
    config = volume_for(dep, "/etc/litellm")
    assert config["configMap"] == {"name": "copilot-litellm-config"} and config["readOnly"]
    assert c["ports"] == [{"name": "http", "containerPort": 4000, "protocol": "TCP"}]


def test_token_file_is_read_from_the_read_only_secret_mount() -> None:
    dep = deployment(parsed(tokenSecret={"name": "my-token"}))
    path = env(dep)["GITHUB_COPILOT_ACCESS_TOKEN_FILE"]["value"]
    assert path.startswith("/")  # absolute: LiteLLM's os.path.join then ignores the dir
    directory, key = path.rsplit("/", 1)
    volume = volume_for(dep, directory)
    assert volume["readOnly"]
    assert volume["secret"]["secretName"] == "my-token"
    assert {"key": "access-token", "path": key} in volume["secret"]["items"]
    # The pod must start (and stay at 0 replicas) before the login service fills it.
    assert volume["secret"]["optional"] is True


def test_copilot_key_dir_is_a_writable_empty_dir() -> None:
    dep = deployment()
    directory = env(dep)["GITHUB_COPILOT_TOKEN_DIR"]["value"]
    volume = volume_for(dep, directory)
    assert "emptyDir" in volume and not volume["readOnly"]
    assert not env(dep)["GITHUB_COPILOT_ACCESS_TOKEN_FILE"]["value"].startswith(directory + "/")


def test_probes_are_cheap_never_the_quota_spending_health() -> None:
    c = container(deployment())
    paths = {
        probe: c[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert paths == {
        "startupProbe": "/health/liveliness",
        "livenessProbe": "/health/liveliness",
        "readinessProbe": "/health/readiness",
    }
    assert all(c[p]["httpGet"]["port"] == "http" for p in paths)


@pytest.mark.parametrize("timeout", [1, 600, 3600])
def test_a_stopping_pod_finishes_what_it_serves(timeout: int) -> None:
    dep = deployment(parsed(router={"timeoutSeconds": timeout}))
    pod = dep["spec"]["template"]["spec"]
    pause = container(dep)["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep" and 0 < int(pause[1]) <= 10
    # LiteLLM waits as long as a request may last...
    assert env(dep)["GRACEFUL_SHUTDOWN_TIMEOUT"]["value"] == str(timeout)
    # ...and Kubernetes waits for that, after the pause, with room for LiteLLM's teardown.
    assert pod["terminationGracePeriodSeconds"] >= int(pause[1]) + timeout + 5


def test_master_key_comes_from_its_secret_and_nowhere_else() -> None:
    dep = deployment()
    ref = env(dep)["LITELLM_MASTER_KEY"]
    assert "value" not in ref
    assert ref["valueFrom"] == {"secretKeyRef": {"name": "copilot-master-key", "key": "master-key"}}
    text = json.dumps(dep)
    assert "sk-" not in text and MASTER_KEY not in text


def test_pod_is_non_root_with_a_read_only_root_and_no_api_token() -> None:
    dep = deployment()
    pod = dep["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container(dep)["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    # With a read-only root, everything LiteLLM writes goes to an emptyDir.
    home = env(dep)["HOME"]["value"]
    assert "emptyDir" in volume_for(dep, home)


def test_resource_requests_default_and_can_be_overridden() -> None:
    default = container(deployment())["resources"]
    assert default["requests"] == {"cpu": "250m", "memory": "512Mi"}
    assert default["limits"] == {"memory": "1Gi"}
    mine = {"requests": {"cpu": "1", "memory": "2Gi"}}
    assert container(deployment(parsed(resources=mine)))["resources"] == mine


def test_image_is_the_operators_unless_overridden() -> None:
    assert container(deployment())["image"] == IMAGE
    assert container(deployment())["imagePullPolicy"] == "IfNotPresent"
    custom = parsed(image="registry.example.com/proxy:9", imagePullPolicy="Always")
    assert container(deployment(custom))["image"] == "registry.example.com/proxy:9"
    assert container(deployment(custom))["imagePullPolicy"] == "Always"


def test_offline_start_without_downloading_the_cost_map() -> None:
    assert env(deployment())["LITELLM_LOCAL_MODEL_COST_MAP"]["value"] == "True"


def test_github_com_urls_by_default() -> None:
    urls = {k: v["value"] for k, v in env(deployment()).items() if k.endswith("_URL")}
    assert urls == {
        "GITHUB_COPILOT_DEVICE_CODE_URL": "https://github.com/login/device/code",
        "GITHUB_COPILOT_ACCESS_TOKEN_URL": "https://github.com/login/oauth/access_token",
        "GITHUB_COPILOT_API_KEY_URL": "https://api.github.com/copilot_internal/v2/token",
    }


def test_ghe_tenant_urls_point_at_the_tenant() -> None:
    dep = deployment(parsed(github={"host": "acme.ghe.com"}))
    urls = {k: v["value"] for k, v in env(dep).items() if k.endswith("_URL")}
    assert urls["GITHUB_COPILOT_DEVICE_CODE_URL"] == "https://acme.ghe.com/login/device/code"
    assert (
        urls["GITHUB_COPILOT_ACCESS_TOKEN_URL"] == "https://acme.ghe.com/login/oauth/access_token"
    )
    assert (
        urls["GITHUB_COPILOT_API_KEY_URL"] == "https://api.acme.ghe.com/copilot_internal/v2/token"
    )
    assert not any("github.com" in url for url in urls.values())


def test_a_configured_api_url_moves_the_copilot_key_url() -> None:
    dep = deployment(parsed(github={"host": "gw.ghe.com"}))
    key_url = env(dep)["GITHUB_COPILOT_API_KEY_URL"]["value"]
    assert key_url == "https://gw.acme.example/copilot_internal/v2/token"


def test_replicas_and_hashes_are_what_the_caller_decided() -> None:
    dep = deployment(replicas=0)
    assert dep["spec"]["replicas"] == 0
    assert dep["spec"]["template"]["metadata"]["annotations"] == {
        "copilot-proxy.dev/config-hash": "cfg0123456789abc",
        "copilot-proxy.dev/token-hash": "tok0123456789abc",
    }


def test_rollout_never_drops_below_the_wanted_pods() -> None:
    strategy = deployment()["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_selector_is_stable_across_spec_changes() -> None:
    """A Deployment's selector is immutable: it may depend on the proxy's name only."""
    a = deployment(parsed())["spec"]["selector"]
    b = deployment(parsed(replicas=3, image="x/y:1", github={"host": "acme.ghe.com"}))["spec"][
        "selector"
    ]
    assert a == b == {"matchLabels": names.selector("copilot")}
