"""Injected API failures: a matching request is answered with an error (or slowly), before
or after its change is stored. Tests add them with `KubeCluster.fail`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from testkit.kube.kmock_adapter import KubernetesError, Request, resource_key

HELPER_AGENT = "kube-cluster-test-helper"  # the User-Agent of KubeCluster's own requests

_REASONS = {404: "NotFound", 409: "Conflict", 429: "TooManyRequests", 500: "InternalError"}


@dataclass
class Fault:
    """An injected API failure; see `KubeCluster.fail`."""

    action: str | None = None  # list, watch, fetch (GET one), create, update (PATCH), delete
    resource: str | None = None  # 'group/version/plural', e.g. 'apps/v1/deployments'
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    status: int | None = 500  # None: no error, only the delay
    delay: float = 0.0
    times: int | None = 1  # None: until removed
    commit: bool = False  # store the change, then answer the error (an answer lost on the way)
    message: str = "injected fault"
    agent: str | None = None  # a part of the client's User-Agent, e.g. 'kopf'
    hits: int = 0

    def matches(self, request: Request) -> bool:
        if request.resource is None or (self.times is not None and self.hits >= self.times):
            return False
        agent = request.headers.get("User-Agent", "")
        if agent == HELPER_AGENT or (self.agent is not None and self.agent not in agent):
            return False  # a test's own reads and writes never fail
        action = request.action.value.lower() if request.action is not None else None
        return (
            (self.action is None or self.action == action)
            and (self.resource is None or self.resource == resource_key(request.resource))
            and (self.namespace is None or self.namespace == request.namespace)
            and (self.name is None or self.name == _request_name(request))
            and (self.subresource is None or self.subresource == request.subresource)
        )

    def error(self) -> KubernetesError:
        """The API error this fault answers."""
        return KubernetesError(
            status=self.status or 500,
            reason=_REASONS.get(self.status or 500, "InjectedFault"),
            message=self.message,
            details={},
        )


def _request_name(request: Request) -> str | None:
    if request.name is not None:
        return request.name
    if isinstance(request.data, dict):  # a create names the object in its body
        name = (request.data.get("metadata") or {}).get("name")
        return str(name) if name is not None else None
    return None


class Faults:
    """The faults in force; tests add them from their thread, the emulator takes them in its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, request: Request) -> Fault | None:
        """The first fault that matches `request`, counted as a hit."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(request):
                    fault.hits += 1
                    return fault
        return None
