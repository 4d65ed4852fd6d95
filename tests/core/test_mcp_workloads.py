"""The objects of an MCP server the operator runs (core/mcp_workloads.py), and the MCP part of
the LiteLLM config (core/mcp_config.py): what each preset runs and mounts, how it is locked
down, who may reach it, and that every object is valid for the Kubernetes versions the chart
supports (the real OpenAPI schemas, as tests/chart does)."""

from __future__ import annotations

import shlex
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from copilot_proxy.core import mcp_workloads, names
from copilot_proxy.core.mcp_config import endpoint
from copilot_proxy.core.render import render_config
from copilot_proxy.core.spec import ProxySpec, parse_spec
from tests.chart.test_kubernetes_schemas import oldest_supported

Obj = dict[str, Any]
IMAGE = "registry.test/copilot-proxy-mcp:test"
OWNER = {
    "apiVersion": "copilot-proxy.dev/v1alpha1",
    "kind": "CopilotProxy",
    "name": "team",
    "uid": "u-1",
    "controller": True,
}
SERVERS = {
    "memory": {"preset": "memory"},
    "kept": {"preset": "memory", "volume": {"persistentVolumeClaim": {"claimName": "graph"}}},
    "docs": {
        "preset": "filesystem",
        "volume": {"persistentVolumeClaim": {"claimName": "team-docs"}},
        "paths": ["handbook", "specs/api"],
    },
    "weather": {
        "command": "mcp-weather",
        "args": ["--city", "New York"],
        "image": "registry.test/weather:1",
        "env": [{"name": "KEY", "secretKeyRef": {"name": "weather", "key": "token"}}],
        "egress": [{"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"], "ports": [443]}],
    },
}


@pytest.fixture(scope="module")
def spec() -> ProxySpec:
    return parse_spec("team", "ai", {"models": [{"name": "gpt-5-mini"}], "mcpServers": SERVERS})


def objects(spec: ProxySpec, name: str, secret_hash: str = "") -> dict[str, Obj]:
    (server,) = [s for s in spec.mcp_servers if s.name == name]
    made = mcp_workloads.objects(spec, server, image=IMAGE, secret_hash=secret_hash, owner=OWNER)
    return {o["kind"]: o for o in made}


def pod(objs: dict[str, Obj]) -> Obj:
    spec: Obj = objs["Deployment"]["spec"]["template"]["spec"]
    return spec


def stdio(objs: dict[str, Obj]) -> list[str]:
    args = pod(objs)["containers"][0]["args"]
    return shlex.split(args[args.index("--stdio") + 1])


@pytest.mark.parametrize("version", [oldest_supported(), latest_version()])
@pytest.mark.parametrize("name", sorted(SERVERS))
def test_every_object_matches_the_kubernetes_schemas(
    spec: ProxySpec, name: str, version: str
) -> None:
    for obj in objects(spec, name, "abc").values():
        kubernetes_validate.validate(obj, version, strict=True)


def test_memory_runs_the_locked_server_behind_the_bridge_with_its_graph_on_an_emptydir(
    spec: ProxySpec,
) -> None:
    objs = objects(spec, "memory")
    container = pod(objs)["containers"][0]
    assert container["image"] == IMAGE
    assert container["command"] == ["supergateway"]
    assert stdio(objs) == ["mcp-server-memory"]
    args = container["args"]
    assert args[args.index("--outputTransport") + 1] == "streamableHttp"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MEMORY_FILE_PATH"] == "/data/memory.jsonl"
    assert {"name": "data", "mountPath": "/data", "readOnly": False} in container["volumeMounts"]
    assert {"name": "data", "emptyDir": {"sizeLimit": "256Mi"}} in pod(objs)["volumes"]
    kept = pod(objects(spec, "kept"))["volumes"]
    assert {
        "name": "data",
        "persistentVolumeClaim": {"claimName": "graph", "readOnly": False},
    } in kept


def test_filesystem_mounts_only_the_listed_paths_read_only(spec: ProxySpec) -> None:
    objs = objects(spec, "docs")
    assert stdio(objs) == ["mcp-server-filesystem", "/data/handbook", "/data/specs/api"]
    mounts = [m for m in pod(objs)["containers"][0]["volumeMounts"] if m["name"] == "data"]
    assert mounts == [
        {"name": "data", "mountPath": "/data/handbook", "subPath": "handbook", "readOnly": True},
        {"name": "data", "mountPath": "/data/specs/api", "subPath": "specs/api", "readOnly": True},
    ]
    claim = {"claimName": "team-docs", "readOnly": True}
    assert {"name": "data", "persistentVolumeClaim": claim} in pod(objs)["volumes"]


def test_a_command_server_runs_its_command_from_its_image_with_secret_env(
    spec: ProxySpec,
) -> None:
    objs = objects(spec, "weather", secret_hash="f00d")
    container = pod(objs)["containers"][0]
    assert container["image"] == "registry.test/weather:1"
    assert stdio(objs) == ["mcp-weather", "--city", "New York"]  # quoted for the bridge's shell
    ref = {"secretKeyRef": {"name": "weather", "key": "token"}}
    assert {"name": "KEY", "valueFrom": ref} in container["env"]
    template = objs["Deployment"]["spec"]["template"]["metadata"]
    assert template["annotations"] == {mcp_workloads.SECRET_HASH: "f00d"}  # rolls on rotation


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_pods_are_locked_down_like_the_proxys(spec: ProxySpec, name: str) -> None:
    objs = objects(spec, name)
    deployment, spec_ = objs["Deployment"], pod(objs)
    assert deployment["metadata"]["ownerReferences"] == [OWNER]
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # one writer per graph
    assert spec_["automountServiceAccountToken"] is False
    assert spec_["securityContext"]["runAsNonRoot"] is True
    assert spec_["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec_["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["resources"]["limits"]["memory"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"


def test_only_the_proxys_pods_get_in_and_nothing_gets_out_unless_declared(
    spec: ProxySpec,
) -> None:
    policy = objects(spec, "memory")["NetworkPolicy"]["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": names.selector("team")}}],
            "ports": [{"port": "mcp", "protocol": "TCP"}],
        }
    ]
    assert policy["egress"] == []
    weather = objects(spec, "weather")["NetworkPolicy"]["spec"]["egress"]
    assert weather[1] == {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
        "ports": [{"port": 443, "protocol": "TCP"}],
    }
    assert {"port": 53, "protocol": "UDP"} in weather[0]["ports"]


def test_the_proxys_service_never_selects_an_mcp_pod(spec: ProxySpec) -> None:
    objs = objects(spec, "memory")
    pod_labels = objs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    proxy_selector = names.selector("team")
    assert not all(pod_labels.get(k) == v for k, v in proxy_selector.items())
    assert (
        objs["Service"]["spec"]["selector"]
        == objs["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"]
    )


def test_the_proxy_reaches_each_server_at_its_service(spec: ProxySpec) -> None:
    config = render_config(spec)["mcp_servers"]
    assert config["memory"] == {
        "url": "http://team-mcp-memory.ai.svc:8000/mcp",
        "transport": "http",
    }
    service = objects(spec, "memory")["Service"]
    assert service["metadata"]["name"] == "team-mcp-memory"
    assert service["spec"]["ports"][0]["port"] == 8000
    (docs,) = [s for s in spec.mcp_servers if s.name == "docs"]
    assert endpoint(spec, docs) == config["docs"]["url"]
    # Read-only: the proxy neither lists nor calls the filesystem server's write tools.
    assert "read_text_file" in config["docs"]["allowed_tools"]
    assert not {"write_file", "edit_file", "move_file", "create_directory"} & set(
        config["docs"]["allowed_tools"]
    )
