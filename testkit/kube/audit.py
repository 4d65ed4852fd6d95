"""Every request the emulator served, as an RBAC rule names it (who, verb, resource), so
tests can hold the chart's Roles against what the code really does."""

from __future__ import annotations

from dataclasses import dataclass

from testkit.kube.kmock_adapter import Action, Request, resource_key

_VERBS = {
    Action.LIST: "list",
    Action.WATCH: "watch",
    Action.FETCH: "get",
    Action.CREATE: "create",
    Action.DELETE: "delete",
}


@dataclass(frozen=True)
class ApiRequest:
    """One request as an RBAC rule names it; `client` is the caller's User-Agent."""

    client: str
    verb: str
    resource: str  # 'group/version/plural', 'v1/secrets'
    subresource: str
    namespace: str
    name: str
    metadata_only: bool = False  # a GET `as=PartialObjectMetadata`: no data was served

    @property
    def group(self) -> str:
        return self.resource.rsplit("/", 2)[0] if self.resource.count("/") == 2 else ""

    @property
    def plural(self) -> str:
        """The resource as a rule lists it: `secrets`, `copilotproxies/status`."""
        plural = self.resource.rsplit("/", 1)[-1]
        return f"{plural}/{self.subresource}" if self.subresource else plural


def as_rbac_sees_it(request: Request) -> ApiRequest | None:
    """None for discovery (every client may read it)."""
    if request.resource is None or request.action is None or request.resource.plural is None:
        return None
    headers = {k.lower(): v for k, v in request.headers.items()}
    return ApiRequest(
        client=headers.get("user-agent", ""),
        verb=_VERBS.get(request.action) or str(getattr(request.method, "value", "")).lower(),
        resource=resource_key(request.resource),
        subresource=request.subresource or "",
        namespace=request.namespace or "",
        name=request.name or "",
        metadata_only="as=PartialObjectMetadata" in headers.get("accept", ""),
    )
