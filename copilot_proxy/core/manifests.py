"""ProxySpec -> the Kubernetes objects of one proxy (pure functions, plain dicts).

Pod settings follow docs/upstream.md (LiteLLM's provider and proxy): the GitHub token is
read from a read-only Secret mount through GITHUB_COPILOT_ACCESS_TOKEN_FILE,
LiteLLM writes its short-lived Copilot key into an emptyDir
(GITHUB_COPILOT_TOKEN_DIR), probes use the cheap health endpoints (never
`/health`, which sends a real completion to every model), and a pod told to
stop finishes the requests and streams it serves (`_drain`).
"""

from __future__ import annotations

import base64
from typing import Any

from copilot_proxy.core import names
from copilot_proxy.core.render import MASTER_KEY_ENV
from copilot_proxy.core.spec import API_GROUP, API_VERSION, KIND, ProxySpec

CONFIG_DIR = "/etc/litellm"
TOKEN_MOUNT = "/var/run/secrets/github"
TOKEN_DIR = "/var/lib/litellm/github_copilot"
RUN_AS = 10001
GRACEFUL_SHUTDOWN_ENV = "GRACEFUL_SHUTDOWN_TIMEOUT"
# Seconds a stopping pod keeps serving before SIGTERM, while its endpoint is removed
# from the Service everywhere (kube-proxy, ingresses): no new request meets a closed port.
PRESTOP_SECONDS = 5
# Seconds LiteLLM may take after its graceful wait (lifespan teardown) before SIGKILL.
TEARDOWN_SECONDS = 10

DEFAULT_RESOURCES: dict[str, dict[str, Any]] = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"memory": "1Gi"},
}

Obj = dict[str, Any]

# Every container the operator runs (the proxy's, the MCP servers') is locked down so.
CONTAINER_SECURITY: Obj = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}


def owner_reference(name: str, uid: str) -> Obj:
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": KIND,
        "name": name,
        "uid": uid,
        "controller": True,
        # No blockOwnerDeletion: it would need `update` on copilotproxies/finalizers
        # where owner-reference permissions are enforced, for no gain here.
    }


def metadata(name: str, spec: ProxySpec, owner: Obj | None) -> Obj:
    """A child's metadata: its name, the proxy's namespace and labels, the owner if any."""
    meta: Obj = {"name": name, "namespace": spec.namespace, "labels": names.labels(spec.name)}
    if owner:
        meta["ownerReferences"] = [owner]
    return meta


def config_map(spec: ProxySpec, config_text: str, owner: Obj | None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(names.config_map(spec.name), spec, owner),
        "data": {names.CONFIG_KEY: config_text},
    }


def master_key_secret(spec: ProxySpec, master_key: str, owner: Obj | None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": metadata(names.master_key_secret(spec.name), spec, owner),
        "data": {names.MASTER_KEY_KEY: base64.b64encode(master_key.encode()).decode()},
    }


def service(spec: ProxySpec, owner: Obj | None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(names.service(spec.name), spec, owner),
        "spec": {
            "type": "ClusterIP",
            "selector": names.selector(spec.name),
            "ports": [
                {"name": "http", "port": names.PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def github_env(spec: ProxySpec) -> list[Obj]:
    """LiteLLM's URL overrides, so GitHub Enterprise (GHE.com) tenants work."""
    gh = spec.github
    return [
        {"name": "GITHUB_COPILOT_DEVICE_CODE_URL", "value": gh.device_code_url},
        {"name": "GITHUB_COPILOT_ACCESS_TOKEN_URL", "value": gh.access_token_url},
        {"name": "GITHUB_COPILOT_API_KEY_URL", "value": gh.copilot_token_url},
    ]


def locked_down_pod() -> Obj:
    """What every pod the operator runs has (the proxy, each MCP server): no ServiceAccount
    token, no service links, a non-root user and the runtime's seccomp profile."""
    return {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def deployment(
    spec: ProxySpec,
    *,
    image: str,
    replicas: int,
    pod_annotations: dict[str, str],
    owner: Obj | None,
    token_volume: bool = True,
) -> Obj:
    """The proxy's Deployment; `token_volume` False leaves the token Secret unmounted
    (a Secret the proxy may not use is never mounted, even with no pods)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(names.deployment(spec.name), spec, owner),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": names.selector(spec.name)},
            # A new pod must be ready before an old one goes: no gap in service.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": names.labels(spec.name), "annotations": pod_annotations},
                "spec": {
                    **locked_down_pod(),
                    "terminationGracePeriodSeconds": termination_grace_seconds(spec),
                    "containers": [_container(spec, image, token_volume)],
                    "volumes": _volumes(spec, token_volume),
                },
            },
        },
    }


def _container(spec: ProxySpec, image: str, token_volume: bool) -> Obj:
    """The proxy container: LiteLLM on the mounted config, locked down."""
    return {
        "name": "litellm",
        "image": spec.image or image,
        "imagePullPolicy": spec.image_pull_policy,
        "command": ["litellm"],
        "args": [
            "--config",
            f"{CONFIG_DIR}/{names.CONFIG_KEY}",
            "--host",
            "0.0.0.0",  # noqa: S104 - the pod's own interface
            "--port",
            str(names.PORT),
        ],
        "ports": [{"name": "http", "containerPort": names.PORT, "protocol": "TCP"}],
        "env": _env(spec),
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            *(
                [{"name": "github-token", "mountPath": TOKEN_MOUNT, "readOnly": True}]
                * token_volume
            ),
            {"name": "copilot-keys", "mountPath": TOKEN_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
        **_probes(),
        **_drain(),
        "resources": spec.resources or DEFAULT_RESOURCES,
        "securityContext": dict(CONTAINER_SECURITY),
    }


def _env(spec: ProxySpec) -> list[Obj]:
    return [
        {"name": "GITHUB_COPILOT_TOKEN_DIR", "value": TOKEN_DIR},
        {
            "name": "GITHUB_COPILOT_ACCESS_TOKEN_FILE",
            "value": f"{TOKEN_MOUNT}/{names.TOKEN_KEY}",
        },
        {
            "name": MASTER_KEY_ENV,
            "valueFrom": {
                "secretKeyRef": {
                    "name": names.master_key_secret(spec.name),
                    "key": names.MASTER_KEY_KEY,
                }
            },
        },
        # On SIGTERM, requests in flight get as long as one may last (LiteLLM's uvicorn
        # waits this many seconds, then cancels what is left).
        {"name": GRACEFUL_SHUTDOWN_ENV, "value": str(spec.router.timeout_seconds)},
        # Offline-safe start: no download of the model cost map.
        {"name": "LITELLM_LOCAL_MODEL_COST_MAP", "value": "True"},
        # WARNING: no uvicorn access line per request (the plugin's request line says
        # more), LiteLLM's warnings kept; ~5% less proxy CPU per request (make bench).
        {"name": "LITELLM_LOG", "value": "WARNING"},
        {"name": "HOME", "value": "/tmp"},
        *github_env(spec),
    ]


def _probes() -> Obj:
    """The cheap health endpoints, never `/health` (it calls every model)."""
    probe = {"port": "http"}
    return {
        # LiteLLM takes ~11 s to start; the startup probe keeps liveness from killing it.
        "startupProbe": {
            "httpGet": {"path": "/health/liveliness", **probe},
            "periodSeconds": 2,
            "failureThreshold": 60,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health/liveliness", **probe},
            "periodSeconds": 15,
            "timeoutSeconds": 5,
            "failureThreshold": 4,
        },
        "readinessProbe": {
            "httpGet": {"path": "/health/readiness", **probe},
            "periodSeconds": 5,
            "timeoutSeconds": 5,
        },
    }


def termination_grace_seconds(spec: ProxySpec) -> int:
    """How long Kubernetes lets a stopping pod finish before SIGKILL: the preStop pause,
    the router timeout (the longest a request in flight may still take), LiteLLM's teardown."""
    return PRESTOP_SECONDS + spec.router.timeout_seconds + TEARDOWN_SECONDS


def _drain() -> Obj:
    """A stopping pod first keeps serving while endpoints drop it, then LiteLLM (SIGTERM)
    stops accepting and finishes what it serves (GRACEFUL_SHUTDOWN_TIMEOUT).

    Kubelet stops liveness probes on a pod being deleted, so a long drain is not
    restarted (docs/upstream.md). `sleep` is the image's coreutils.
    """
    return {"lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SECONDS)]}}}}


def _volumes(spec: ProxySpec, token_volume: bool) -> list[Obj]:
    token = {
        "name": "github-token",
        "secret": {
            "secretName": spec.token_secret,
            "items": [{"key": names.TOKEN_KEY, "path": names.TOKEN_KEY}],
            "optional": True,
        },
    }
    return [
        {"name": "config", "configMap": {"name": names.config_map(spec.name)}},
        *([token] if token_volume else []),
        {
            "name": "copilot-keys",
            "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"},
        },
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
    ]
