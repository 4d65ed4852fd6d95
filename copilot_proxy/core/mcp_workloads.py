"""An MCP server the operator runs -> its Deployment, Service and NetworkPolicy (pure).

One pod per server runs `supergateway` (the stdio-to-HTTP bridge of the MCP
image, npm/package-lock.json) in stateful streamable-HTTP mode: each MCP
session LiteLLM opens starts the stdio server (`/bin/sh -c "<server command>"`)
and ends it when LiteLLM closes the session (or after a minute idle), so a
crashed server costs one session. Stateful: LiteLLM reuses its upstream
sessions, and a tool call then costs no process start (half the time of
stateless mode, measured through the proxy). One replica (sessions live in one
pod); LiteLLM opens new sessions after the pod restarts. The pod is
locked down like the proxy's (non-root, read-only root filesystem, no
service-account token, seccomp, all capabilities dropped, resources); its
NetworkPolicy lets in only this proxy's pods and lets out nothing unless the
declaration lists `egress`. `Recreate`: two memory servers must never write
one graph file at once, and a ReadWriteOnce claim cannot be mounted twice.

The volume is mounted at /data: the memory graph is /data/memory.jsonl; a
filesystem server sees only the listed paths, each mounted by `subPath`, so
nothing else of the claim is in the container at all.
"""

from __future__ import annotations

import shlex
from typing import Any

from copilot_proxy.core import names
from copilot_proxy.core.manifests import CONTAINER_SECURITY, locked_down_pod
from copilot_proxy.core.mcp_config import PATH, PORT
from copilot_proxy.core.mcp_spec import McpServer
from copilot_proxy.core.spec import ProxySpec

Obj = dict[str, Any]

DATA = "/data"
MEMORY_FILE = "memory.jsonl"
HEALTH_PATH = "/healthz"
SERVER_LABEL = f"{names.PREFIX}/mcp-server"
SECRET_HASH = f"{names.PREFIX}/secret-hash"  # rolls the pods when a referenced Secret changes
DEFAULT_RESOURCES: dict[str, dict[str, Any]] = {
    "requests": {"cpu": "50m", "memory": "128Mi"},
    "limits": {"memory": "512Mi"},
}
DEFAULT_SCRATCH = "256Mi"  # an emptyDir volume's size limit when none is declared


def selector(spec: ProxySpec, server: McpServer) -> dict[str, str]:
    """Never the proxy's selector: the proxy's Service must not send requests here."""
    return {
        "app.kubernetes.io/name": "copilot-proxy-mcp",
        "app.kubernetes.io/instance": names.mcp_server(spec.name, server.name),
    }


def labels(spec: ProxySpec, server: McpServer) -> dict[str, str]:
    return {
        **selector(spec, server),
        "app.kubernetes.io/component": "mcp-server",
        "app.kubernetes.io/managed-by": names.MANAGED_BY,
        names.PROXY_LABEL: spec.name,
        SERVER_LABEL: server.name,
    }


def stdio_command(server: McpServer, data: str = DATA) -> list[str]:
    """The stdio server's command line, its files under `data`."""
    if server.preset == "memory":
        return ["mcp-server-memory"]
    if server.preset == "filesystem":
        return ["mcp-server-filesystem", *(_path_in(data, p) for p in server.paths)]
    return [server.command, *server.args]


def bridge_args(server: McpServer, port: int = PORT, data: str = DATA) -> list[str]:
    """supergateway's arguments: the stdio server, served over streamable HTTP on `port`.

    `--logLevel none`: at `info` the bridge logs every message, tool results
    (file contents, memories) included. `--sessionTimeout`: an idle session's
    server process ends after a minute.
    """
    return [
        "--stdio",
        shlex.join(stdio_command(server, data)),
        "--outputTransport",
        "streamableHttp",
        "--stateful",
        "--sessionTimeout",
        "60000",
        "--streamableHttpPath",
        PATH,
        "--port",
        str(port),
        "--healthEndpoint",
        HEALTH_PATH,
        "--logLevel",
        "none",
    ]


def preset_env(server: McpServer, data: str = DATA) -> dict[str, str]:
    """What a preset needs in its environment (besides HOME)."""
    if server.preset == "memory":
        return {"MEMORY_FILE_PATH": _path_in(data, MEMORY_FILE)}
    return {}


def deployment(
    spec: ProxySpec, server: McpServer, *, image: str, secret_hash: str, owner: Obj | None
) -> Obj:
    annotations = {SECRET_HASH: secret_hash} if secret_hash else {}
    pod = locked_down_pod()
    # No recursive chown of a large claim at every start.
    pod["securityContext"]["fsGroupChangePolicy"] = "OnRootMismatch"
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec, server, owner),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector(spec, server)},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": labels(spec, server), "annotations": annotations},
                "spec": {
                    **pod,
                    "containers": [_container(spec, server, server.image or image)],
                    "volumes": _volumes(server),
                },
            },
        },
    }


def _container(spec: ProxySpec, server: McpServer, image: str) -> Obj:
    probe = {"httpGet": {"path": HEALTH_PATH, "port": "mcp"}, "timeoutSeconds": 5}
    return {
        "name": "mcp",
        "image": image,
        "imagePullPolicy": spec.image_pull_policy,
        "command": ["supergateway"],
        "args": bridge_args(server),
        "ports": [{"name": "mcp", "containerPort": PORT, "protocol": "TCP"}],
        "env": _env(server),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *_data_mounts(server)],
        "readinessProbe": {**probe, "periodSeconds": 5},
        "livenessProbe": {**probe, "periodSeconds": 15, "failureThreshold": 4},
        "resources": server.resources or DEFAULT_RESOURCES,
        "securityContext": dict(CONTAINER_SECURITY),
    }


def _env(server: McpServer) -> list[Obj]:
    env: list[Obj] = [{"name": "HOME", "value": "/tmp"}]
    env += [{"name": k, "value": v} for k, v in preset_env(server).items()]
    for var in server.env:
        if var.secret:
            ref = {"name": var.secret, "key": var.key}
            env.append({"name": var.name, "valueFrom": {"secretKeyRef": ref}})
        else:
            env.append({"name": var.name, "value": var.value})
    return env


def _data_mounts(server: McpServer) -> list[Obj]:
    if server.volume is None and server.preset != "memory":
        return []
    read_only = server.read_only
    if server.preset != "filesystem" or server.paths == (".",):
        return [{"name": "data", "mountPath": DATA, "readOnly": read_only}]
    return [
        {"name": "data", "mountPath": _path_in(DATA, p), "subPath": p, "readOnly": read_only}
        for p in server.paths
    ]


def _volumes(server: McpServer) -> list[Obj]:
    volumes: list[Obj] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    volume = server.volume
    if volume is not None and volume.claim:
        claim = {"claimName": volume.claim, "readOnly": server.read_only}
        volumes.append({"name": "data", "persistentVolumeClaim": claim})
    elif volume is not None or server.preset == "memory":
        size = volume.size_limit if volume is not None and volume.size_limit else DEFAULT_SCRATCH
        volumes.append({"name": "data", "emptyDir": {"sizeLimit": size}})
    return volumes


def service(spec: ProxySpec, server: McpServer, owner: Obj | None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec, server, owner),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(spec, server),
            "ports": [{"name": "mcp", "port": PORT, "targetPort": "mcp", "protocol": "TCP"}],
        },
    }


def network_policy(spec: ProxySpec, server: McpServer, owner: Obj | None) -> Obj:
    """In: this proxy's pods only, on the bridge's port. Out: nothing but declared egress."""
    egress: list[Obj] = []
    if server.egress:
        dns = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
        egress.append({"ports": dns})
    for rule in server.egress:
        block: Obj = {"cidr": rule.cidr}
        if rule.excepted:
            block["except"] = list(rule.excepted)
        entry: Obj = {"to": [{"ipBlock": block}]}
        if rule.ports:
            entry["ports"] = [{"port": p, "protocol": "TCP"} for p in rule.ports]
        egress.append(entry)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(spec, server, owner),
        "spec": {
            "podSelector": {"matchLabels": selector(spec, server)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": names.selector(spec.name)}}],
                    "ports": [{"port": "mcp", "protocol": "TCP"}],
                }
            ],
            "egress": egress,
        },
    }


def objects(
    spec: ProxySpec, server: McpServer, *, image: str, secret_hash: str, owner: Obj | None
) -> list[Obj]:
    """Every object of one run server: policy first, so no pod ever runs unguarded."""
    return [
        network_policy(spec, server, owner),
        service(spec, server, owner),
        deployment(spec, server, image=image, secret_hash=secret_hash, owner=owner),
    ]


def _metadata(spec: ProxySpec, server: McpServer, owner: Obj | None) -> Obj:
    meta: Obj = {
        "name": names.mcp_server(spec.name, server.name),
        "namespace": spec.namespace,
        "labels": labels(spec, server),
    }
    if owner:
        meta["ownerReferences"] = [owner]
    return meta


def _path_in(root: str, path: str) -> str:
    return root if path == "." else f"{root.rstrip('/')}/{path}"
