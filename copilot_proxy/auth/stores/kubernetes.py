"""Token store on Kubernetes: CopilotProxy objects and their token Secrets.

The operator creates each token Secret empty; this store patches it (or
creates it when the operator has not yet). The Secret's format is
copilot_proxy.core.token_secret's; `KubernetesStore` only adds the API calls (the shared dict
client of copilot_proxy.kube, pointed at the emulator in tests through
COPILOT_PROXY_KUBE_API). Needs: copilotproxies get/list, secrets get/create/patch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from copilot_proxy.auth.stores.protocol import ProxyInfo, ProxyRef, StoreError, TokenInfo
from copilot_proxy.core import names, token_secret
from copilot_proxy.core.spec import API_GROUP, API_VERSION, KIND, PLURAL, token_secret_of
from copilot_proxy.kube import Kube, KubeError, NotFound, object_path, retrying

Obj = dict[str, Any]
T = TypeVar("T")
CPX_API = f"{API_GROUP}/{API_VERSION}"


@dataclass(frozen=True)
class KubeProxy:
    """What this service needs of a CopilotProxy object."""

    ref: ProxyRef
    token_secret: str
    github_host: str
    github_api_url: str
    ready: str
    status_message: str


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
        token_secret=token_secret_of(name, spec),
        github_host=str(github.get("host") or "github.com"),
        github_api_url=str(github.get("apiUrl") or ""),
        ready=str(ready.get("status") or ""),
        status_message=str(ready.get("message") or ""),
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
        return cls(Kube.from_environment(), namespaces)

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

    def _secret(self, namespace: str, name: str) -> Obj | None:
        return self._call(lambda: self.kube.get(object_path("v1", "Secret", namespace, name)))

    def _info(self, proxy: KubeProxy) -> ProxyInfo:
        secret = self._secret(proxy.ref.namespace, proxy.token_secret)
        return ProxyInfo(
            ref=proxy.ref,
            token_location=f"Secret {proxy.ref.namespace}/{proxy.token_secret}",
            token=token_info(secret),
            github_host=proxy.github_host,
            github_api_url=proxy.github_api_url,
            ready=proxy.ready,
            status_message=proxy.status_message,
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
        return token_secret.read(self._secret(ref.namespace, proxy.token_secret)).value

    def master_key(self, ref: ProxyRef) -> str:
        if not self._watched(ref):
            return ""
        secret = self._secret(ref.namespace, names.master_key_secret(ref.name))
        return token_secret.data_value(secret, names.MASTER_KEY_KEY)

    def check(self) -> None:
        self._list()

    # -- writes -----------------------------------------------------------------

    def write_token(self, ref: ProxyRef, token: str, login: str, when: datetime) -> None:
        proxy = self._proxy(ref)
        if proxy is None:
            raise StoreError(f"CopilotProxy {ref.id} is gone; nothing was stored.")
        secret = token_secret.filled(
            proxy.ref.namespace, proxy.token_secret, proxy.ref.name, token, login, when
        )
        # Fill the operator's Secret in place, or create it when the operator has not yet.
        self._call(
            lambda: self.kube.ensure(secret, lambda _desired, _live: True),
            f"write Secret {ref.namespace}/{proxy.token_secret}",
        )

    def clear_token(self, ref: ProxyRef) -> None:
        proxy = self._proxy(ref)
        if proxy is None:
            raise StoreError(f"CopilotProxy {ref.id} is gone.")
        path = object_path("v1", "Secret", ref.namespace, proxy.token_secret)

        def clear() -> None:
            with contextlib.suppress(NotFound):  # no Secret, no token
                self.kube.merge_patch(path, token_secret.CLEAR_PATCH)

        self._call(clear, f"clear Secret {ref.namespace}/{proxy.token_secret}")

    @staticmethod
    def _call(fn: Callable[[], T], what: str = "reach the Kubernetes API") -> T:
        try:
            return fn()
        except KubeError as error:
            # The API server's message names the object and the verb, never a body.
            raise StoreError(f"Could not {what}: {error}") from None
