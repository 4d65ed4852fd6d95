"""Token store on Kubernetes: CopilotProxy objects and their token Secrets.

The operator creates each token Secret empty; this store patches it (or
creates it, owned by the proxy as the operator would, when the operator has not yet).
The Secret's format and whose it is are copilot_proxy.core.token_secret's: a
Secret the proxy may not use (another application's, another proxy's) is never
read past its metadata, written or cleared, whatever a CopilotProxy names. The
master key unlocks the page only from the Secret the proxy owns.
A proxy with spec.credential.githubApp gets its token from the operator
(stores/apps.py): it is shown, never written or cleared here, and the App's
private key Secret is never read.
`KubernetesStore` only adds the API calls (the shared dict client of
copilot_proxy.kube, pointed at the emulator in tests through
COPILOT_PROXY_KUBE_API). Needs: copilotproxies get/list, secrets get/create/patch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from copilot_proxy.auth.stores import apps
from copilot_proxy.auth.stores.protocol import (
    AppCredential,
    ProxyInfo,
    ProxyRef,
    StoreError,
    TokenInfo,
)
from copilot_proxy.core import manifests, names, token_secret
from copilot_proxy.core.spec import API_GROUP, API_VERSION, KIND, PLURAL, token_secret_of
from copilot_proxy.kube import Kube, KubeError, NotFound, describe, object_path, retrying

Obj = dict[str, Any]
T = TypeVar("T")
CPX_API = f"{API_GROUP}/{API_VERSION}"
USER_AGENT = "copilot-proxy-auth"  # this service's requests, as audit logs show them


@dataclass(frozen=True)
class KubeProxy:
    """What this service needs of a CopilotProxy object."""

    ref: ProxyRef
    uid: str
    token_secret: str
    github_host: str
    github_api_url: str
    ready: str
    status_message: str
    app: AppCredential | None = None  # spec.credential.githubApp (apps.py)


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def read_proxy(obj: Obj) -> KubeProxy:
    meta, spec = _dict(obj.get("metadata")), _dict(obj.get("spec"))
    name = str(meta.get("name") or "")
    github = _dict(spec.get("github"))
    conditions = _dict(obj.get("status")).get("conditions") or []
    ready = next((c for c in conditions if isinstance(c, dict) and c.get("type") == "Ready"), {})
    return KubeProxy(
        ref=ProxyRef(str(meta.get("namespace") or ""), name),
        uid=str(meta.get("uid") or ""),
        token_secret=token_secret_of(name, spec),
        github_host=str(github.get("host") or "github.com"),
        github_api_url=str(github.get("apiUrl") or ""),
        ready=str(ready.get("status") or ""),
        status_message=str(ready.get("message") or ""),
        app=apps.app_of(obj),
    )


def token_info(secret: Obj | None) -> TokenInfo:
    stored = token_secret.read(secret)
    return TokenInfo(present=stored.present, login=stored.login, updated_at=stored.updated_at)


class KubernetesStore:
    kind = "kubernetes"

    def __init__(self, kube: Kube, namespaces: Sequence[str] = ()) -> None:
        self.kube = kube
        # Empty: every namespace (cluster-wide RBAC).
        self.namespaces = tuple(dict.fromkeys(namespaces))

    @classmethod
    def from_environment(cls, namespaces: Sequence[str] = ()) -> KubernetesStore:
        return cls(Kube.from_environment(user_agent=USER_AGENT), namespaces)

    # -- reads ------------------------------------------------------------------

    def _list(self) -> list[KubeProxy]:
        paths = (
            [object_path(CPX_API, KIND, ns) for ns in self.namespaces]
            if self.namespaces
            else [f"/apis/{CPX_API}/{PLURAL}"]
        )
        proxies: list[KubeProxy] = []
        for path in paths:
            proxies += [read_proxy(item) for item in self._items(path)]
        return sorted(proxies, key=lambda p: p.ref)

    def _items(self, path: str) -> list[Obj]:
        answer = self._call(lambda: retrying(lambda: self.kube.request("GET", path)))
        return list(answer.get("items") or [])

    def _watched(self, ref: ProxyRef) -> bool:
        return not self.namespaces or ref.namespace in self.namespaces

    def _proxy(self, ref: ProxyRef) -> KubeProxy | None:
        if not self._watched(ref):
            return None
        path = object_path(CPX_API, KIND, ref.namespace, ref.name)
        obj = self._call(lambda: self.kube.get(path))
        return read_proxy(obj) if obj else None

    def _path(self, namespace: str, name: str) -> str:
        return object_path("v1", "Secret", namespace, name)

    def _usable(
        self, proxy: KubeProxy, name: str, own_only: bool = False
    ) -> tuple[Obj | None, str]:
        """The Secret `name` if `proxy` may use it, else (None, why not).

        Its metadata is read first: another application's Secret never reaches
        this process with its data. The token Secret follows core.token_secret's
        rule; with `own_only` (the master key) only a Secret the proxy owns passes.
        """
        path = self._path(proxy.ref.namespace, name)
        meta = self._call(lambda: self.kube.get_metadata(path))
        why = self._why_not(meta, proxy, own_only) if meta else ""
        if meta is None or why:
            return None, why
        secret = self._call(lambda: self.kube.get(path))
        why = self._why_not(secret, proxy, own_only) if secret else ""  # e.g. its type
        return (None, why) if secret is None or why else (secret, "")

    @staticmethod
    def _why_not(secret: Obj, proxy: KubeProxy, own_only: bool) -> str:
        if not own_only:
            return token_secret.refusal(secret, proxy.ref.name, proxy.uid)
        if token_secret.owned_by(secret, proxy.uid):
            return ""
        return f"{describe(secret)} is not this proxy's"

    def _info(self, proxy: KubeProxy) -> ProxyInfo:
        secret, refused = self._usable(proxy, proxy.token_secret)
        return ProxyInfo(
            ref=proxy.ref,
            token_location=f"Secret {proxy.ref.namespace}/{proxy.token_secret}",
            token=token_info(secret),
            github_host=proxy.github_host,
            github_api_url=proxy.github_api_url,
            # The page shows why a proxy cannot be signed in (also with an outdated status).
            ready="False" if refused else proxy.ready,
            status_message=refused or proxy.status_message,
            token_refused=refused,
            app=apps.with_token(proxy.app, secret) if proxy.app else None,
        )

    def list_proxies(self) -> list[ProxyInfo]:
        return [self._info(p) for p in self._list()]

    def get_proxy(self, ref: ProxyRef) -> ProxyInfo | None:
        proxy = self._proxy(ref)
        return self._info(proxy) if proxy else None

    def read_token(self, ref: ProxyRef) -> str:
        proxy = self._proxy(ref)
        if proxy is None:
            return ""
        return token_secret.read(self._usable(proxy, proxy.token_secret)[0]).value

    def master_key(self, ref: ProxyRef) -> str:
        proxy = self._proxy(ref)
        if proxy is None:
            return ""
        secret, _ = self._usable(proxy, names.master_key_secret(ref.name), own_only=True)
        return token_secret.data_value(secret, names.MASTER_KEY_KEY)

    def check(self) -> None:
        self._list()

    # -- writes -----------------------------------------------------------------

    def write_token(self, ref: ProxyRef, token: str, login: str, when: datetime) -> None:
        proxy = self._proxy(ref)
        if proxy is None:
            raise StoreError(f"CopilotProxy {ref.id} is gone; nothing was stored.")
        self._not_app(proxy)
        name = proxy.token_secret
        what = f"write Secret {ref.namespace}/{name}"
        owner = manifests.owner_reference(ref.name, proxy.uid)
        body = token_secret.filled(ref.namespace, name, ref.name, token, login, when, owner)
        if self._writable(proxy) is None:
            try:  # owned by the proxy, as the operator makes it (it has not yet)
                self._call(lambda: self.kube.create(body), what)
                return
            except StoreError:
                if self._writable(proxy) is None:  # not made meanwhile either: a real error
                    raise
        del body["metadata"]["ownerReferences"]  # an existing Secret keeps its owners
        self._call(lambda: self.kube.merge_patch(self._path(ref.namespace, name), body), what)

    def clear_token(self, ref: ProxyRef) -> None:
        proxy = self._proxy(ref)
        if proxy is None:
            raise StoreError(f"CopilotProxy {ref.id} is gone.")
        self._not_app(proxy)
        path = self._path(ref.namespace, proxy.token_secret)
        if self._writable(proxy) is None:
            return  # no Secret, no token

        def clear() -> None:
            with contextlib.suppress(NotFound):  # deleted meanwhile: no token either
                self.kube.merge_patch(path, token_secret.CLEAR_PATCH)

        self._call(clear, f"clear Secret {ref.namespace}/{proxy.token_secret}")

    @staticmethod
    def _not_app(proxy: KubeProxy) -> None:
        if proxy.app is not None:
            what = f"CopilotProxy {proxy.ref.id}"
            raise StoreError(
                apps.managed(what, proxy.app, "the operator") + " Nothing was changed."
            )

    def _writable(self, proxy: KubeProxy) -> Obj | None:
        """The token Secret's metadata if it exists; StoreError if the proxy may not use it."""
        path = self._path(proxy.ref.namespace, proxy.token_secret)
        meta = self._call(lambda: self.kube.get_metadata(path))
        refused = token_secret.refusal(meta, proxy.ref.name, proxy.uid) if meta else ""
        if refused:
            raise StoreError(f"{refused}. Nothing was changed.")
        return meta

    @staticmethod
    def _call(fn: Callable[[], T], what: str = "reach the Kubernetes API") -> T:
        try:
            return fn()
        except KubeError as error:
            # The API server's message names the object and the verb, never a body.
            raise StoreError(f"Could not {what}: {error}") from None
