"""kopf handlers: the thin shell. Each one only names the proxy to reconcile.

Every trigger (the CopilotProxy itself, a drifted child, a new token, the
periodic resync) runs the same level-triggered `reconcile`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any, cast

import kopf

from copilot_proxy.core import mcp_access, names
from copilot_proxy.core.github import HOSTS_ENV, GitHubConfigError, parse_hosts
from copilot_proxy.core.network_policy import POLICY_ENV, NetworkPolicyConfigError, parse_config
from copilot_proxy.core.spec import API_GROUP, API_VERSION, PLURAL, token_secret_of
from copilot_proxy.kube import KUBE_API_ENV, Kube, KubeError
from copilot_proxy.operator import apps, catalogue, credential, health, metrics, schedule
from copilot_proxy.operator.reconcile import OperatorConfig, proxy_collection, reconcile

log = logging.getLogger(__name__)

registry = kopf.OperatorRegistry()

# The images the release workflow publishes for this version (tests/chart/test_release.py).
DEFAULT_IMAGE = f"ghcr.io/copilot-proxy/copilot-proxy:{version('copilot-proxy')}"
DEFAULT_MCP_IMAGE = f"ghcr.io/copilot-proxy/copilot-proxy-mcp:{version('copilot-proxy')}"
USER_AGENT = "copilot-proxy-operator"  # the reconciler's requests, as audit logs show them
MANAGED = {"app.kubernetes.io/managed-by": names.MANAGED_BY}

_kube: Kube | None = None
_catalogue: catalogue.CatalogueStep | None = None  # made at startup: it remembers tokens read
_credential: credential.CredentialStep | None = None  # made at startup: mints App tokens
_schedule = schedule.Schedule()  # every known proxy -> when it runs again


def operator_config() -> OperatorConfig:
    """The operator's configuration, from the environment the chart sets."""
    return OperatorConfig(
        image=os.environ.get("COPILOT_PROXY_IMAGE", DEFAULT_IMAGE),
        login_hint=os.environ.get("COPILOT_PROXY_LOGIN_HINT", ""),
        github_hosts=parse_hosts(os.environ.get(HOSTS_ENV, "")),
        network_policy=parse_config(os.environ.get(POLICY_ENV, "")),
        catalogue=_catalogue,
        mcp_image=os.environ.get("COPILOT_PROXY_MCP_IMAGE", DEFAULT_MCP_IMAGE),
        credential=_credential,
    )


def resync_seconds() -> float:
    return float(os.environ.get("COPILOT_PROXY_RESYNC_SECONDS", "60"))


def kube() -> Kube:
    global _kube
    if _kube is None:
        _kube = Kube.from_environment(user_agent=USER_AGENT)
    return _kube


def _emit(body: dict[str, Any], kind: str, reason: str, message: str) -> None:
    try:
        kopf.event(cast(kopf.Body, body), type=kind, reason=reason, message=message)
    except LookupError:  # outside kopf's tasks before any handler ran: no queue to post to
        log.info("%s/%s: event %s not posted", *_names(body), reason)


def _names(body: dict[str, Any]) -> tuple[str, str]:
    meta = body.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def run(namespace: str, name: str, trigger: str) -> None:
    started = time.monotonic()
    key = (namespace, name)
    try:
        outcome = reconcile(kube(), namespace, name, operator_config(), _emit)
    except KubeError as error:
        metrics.ERRORS.labels(trigger=trigger).inc()
        metrics.RECONCILES.labels(trigger=trigger, result="error").inc()
        _schedule.ran(key, None)
        raise kopf.TemporaryError(f"{namespace}/{name}: {error}", delay=5) from None
    finally:
        metrics.DURATION.observe(time.monotonic() - started)
    if outcome is None:  # gone: nothing left to resync
        _forget(key)
        return
    _schedule.ran(key, outcome.wake_in)  # e.g. a GitHub App token's renewal time
    metrics.observe(namespace, name, outcome.status)
    metrics.RECONCILES.labels(
        trigger=trigger, result="ready" if outcome.ready else outcome.reason
    ).inc()
    if outcome.rolled:
        metrics.ROLLOUTS.inc()


@kopf.on.startup(registry=registry)
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    global _kube, _catalogue, _credential
    _kube = None  # A new start may face another API server (tests restart the operator).
    _catalogue = catalogue.from_environment()
    _credential = credential.from_environment(apps.GitHubAppClient(os.environ))
    _schedule.clear()
    schedule.forget_posting()
    health.READINESS.reset()
    try:
        operator_config()
    except (GitHubConfigError, NetworkPolicyConfigError) as error:  # the admin's: stop
        raise kopf.PermanentError(str(error)) from None
    settings.persistence.finalizer = f"{names.PREFIX}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=names.PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=names.PREFIX, key="last-handled-configuration"
    )
    # Events come from explicit transitions only, not from every log line.
    settings.posting.loggers = False
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    if os.environ.get("COPILOT_PROXY_NAMESPACED"):
        # Namespaced RBAC grants no cluster-wide list of CRDs and namespaces.
        settings.scanning.disabled = True
    port = os.environ.get("COPILOT_PROXY_METRICS_PORT")
    if port:
        metrics.serve(int(port))


def served_namespaces() -> list[str]:
    """The namespaces of `--namespace` (COPILOT_PROXY_NAMESPACED); [] for the whole cluster."""
    raw = os.environ.get("COPILOT_PROXY_NAMESPACED", "")
    return [ns for ns in raw.split(",") if ns and ns != "1"]


def _existing_proxies() -> list[tuple[str, str]]:
    """Every CopilotProxy the operator serves, as the API lists it now (readiness)."""
    paths = [proxy_collection(ns) for ns in served_namespaces()] or [proxy_collection("")]
    items = [i for path in paths for i in kube().request("GET", path).get("items") or []]
    return [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]


@kopf.on.startup(registry=registry)
async def start_probes(memo: kopf.Memo, **_: Any) -> None:
    """/healthz and /readyz on the health port (health.py), instead of kopf's liveness."""
    port = os.environ.get("COPILOT_PROXY_HEALTH_PORT")
    if port:
        memo.probes = await health.serve(int(port), _existing_proxies)
    health.READINESS.started = True


@kopf.on.cleanup(registry=registry)
async def stop_probes(memo: kopf.Memo, **_: Any) -> None:
    runner = getattr(memo, "probes", None)
    if runner is not None:
        await runner.cleanup()


@kopf.on.login(registry=registry)
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    server = os.environ.get(KUBE_API_ENV)
    if server:
        return kopf.ConnectionInfo(server=server, insecure=True)
    info: kopf.ConnectionInfo | None = kopf.login_via_client(**kwargs)
    return info


@kopf.on.resume(API_GROUP, API_VERSION, PLURAL, registry=registry)
@kopf.on.create(API_GROUP, API_VERSION, PLURAL, registry=registry)
@kopf.on.update(API_GROUP, API_VERSION, PLURAL, registry=registry)
def proxy_changed(name: str, namespace: str | None, **_: Any) -> None:
    run(namespace or "", name, "resource")


@kopf.on.event(API_GROUP, API_VERSION, PLURAL, registry=registry)
def proxy_event(type: str, name: str, namespace: str | None, **_: Any) -> None:
    key = (namespace or "", name)
    schedule.remember_posting()
    health.READINESS.saw(*key)  # kopf hands events over only once it watches every kind
    if type == "DELETED":
        _forget(key)
    else:
        _schedule.know(key)  # known: the resync loop visits it


def _forget(key: tuple[str, str]) -> None:
    """A proxy is gone: its metrics, its resync and its credential memory (a proxy made
    again under the name must not wait out the old one's failed mint)."""
    metrics.forget(*key)
    _schedule.forget(key)
    if _credential is not None:
        _credential.forget(*key)


def _resync(namespace: str, name: str) -> None:
    """Safety net for missed events; also keeps the token age in status current, and
    renews GitHub App tokens on time."""
    schedule.borrow_posting()
    try:
        run(namespace, name, "resync")
    except kopf.TemporaryError as error:
        log.warning("%s", error)


@kopf.on.startup(registry=registry)
async def start_resync(memo: kopf.Memo, **_: Any) -> None:
    memo.resync = asyncio.create_task(schedule.run_forever(_schedule, resync_seconds, _resync))


@kopf.on.cleanup(registry=registry)
async def stop_resync(memo: kopf.Memo, **_: Any) -> None:
    task = getattr(memo, "resync", None)
    if task is not None:
        task.cancel()


@kopf.index(API_GROUP, API_VERSION, PLURAL, registry=registry)
def token_users(name: str, namespace: str | None, spec: Mapping[str, Any], **_: Any) -> Any:
    """(namespace, token Secret) -> the proxies that read it; several may share one login."""
    return {(namespace, token_secret_of(name, spec)): name}


def _converge(namespace: str, owners: set[str]) -> None:
    for owner in sorted(owners):
        try:
            run(namespace, owner, "child")
        except kopf.TemporaryError as error:
            # Event handlers are not retried by kopf; the resync timer will be.
            log.warning("%s", error)


@kopf.on.event("", "v1", "configmaps", labels=MANAGED, registry=registry)
@kopf.on.event("", "v1", "services", labels=MANAGED, registry=registry)
@kopf.on.event("apps", "v1", "deployments", labels=MANAGED, registry=registry)
@kopf.on.event("networking.k8s.io", "v1", "networkpolicies", labels=MANAGED, registry=registry)
def child_changed(namespace: str | None, labels: Mapping[str, str], **_: Any) -> None:
    """A child drifted or vanished, or pods became ready: converge the owner."""
    owner = labels.get(names.PROXY_LABEL)
    if owner and namespace:
        _converge(namespace, {owner})


@kopf.on.event("", "v1", "secrets", labels={names.PROXY_LABEL: kopf.PRESENT}, registry=registry)
def secret_changed(
    name: str, namespace: str | None, labels: Mapping[str, str], **kwargs: Any
) -> None:
    """A token arrived, changed or went, or a master key was touched: converge its proxies."""
    if not namespace:
        return
    users: kopf.Index[Any, str] = kwargs["token_users"]  # the index above, by kopf
    owners = set(users.get((namespace, name), ()))
    owners.add(labels[names.PROXY_LABEL])
    _converge(namespace, owners)


@kopf.on.event(
    "", "v1", "secrets", annotations={names.TOKEN_FOR_ANNOTATION: kopf.PRESENT}, registry=registry
)
def marked_secret_changed(
    name: str, namespace: str | None, labels: Mapping[str, str], **kwargs: Any
) -> None:
    """A Secret someone marked for proxies (copilot-proxy.dev/token-for) changed: converge
    the proxies that name it. The operator never labels or changes such a Secret."""
    users: kopf.Index[Any, str] = kwargs["token_users"]
    if namespace and names.PROXY_LABEL not in labels:  # else secret_changed does it
        _converge(namespace, set(users.get((namespace, name), ())))


@kopf.on.event(
    "", "v1", "secrets", annotations={mcp_access.ANNOTATION: kopf.PRESENT}, registry=registry
)
@kopf.on.event(
    "", "v1", "secrets", annotations={names.APP_KEY_FOR_ANNOTATION: kopf.PRESENT}, registry=registry
)
@kopf.on.event(
    "",
    "v1",
    "persistentvolumeclaims",
    annotations={mcp_access.ANNOTATION: kopf.PRESENT},
    registry=registry,
)
def marked_object_changed(namespace: str | None, annotations: Mapping[str, str], **_: Any) -> None:
    """A Secret or claim marked for MCP servers, or a GitHub App key Secret, changed:
    converge the proxies it names."""
    marks = (annotations.get(a, "") for a in (mcp_access.ANNOTATION, names.APP_KEY_FOR_ANNOTATION))
    marked = {n.strip() for mark in marks for n in mark.split(",")}
    if namespace:
        _converge(namespace, {n for n in marked if n})
