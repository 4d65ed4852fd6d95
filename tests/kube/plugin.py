"""pytest fixtures for the emulated Kubernetes API; registered in tests/conftest.py.

- `kube_cluster`: a fresh `KubeCluster` per test (the emulator in its own
  thread, every built-in resource the project touches declared, the real CRD
  from crds/ served and stored, namespace `default`).
- `kube_api`: the same, with `COPILOT_PROXY_KUBE_API` pointing at it, so the
  operator, the auth service and `copilot_proxy.kube` talk to it.
- `kopf_operator`: a factory `kopf_operator(registry, namespaces=None)` -> a
  started `KopfOperator` (kopf in a thread of its own), stopped at teardown.

Waiting: `testkit.waiting.wait_for` (async) and `wait_for_sync`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import kopf
import pytest

from copilot_proxy.kube import KUBE_API_ENV
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator


@pytest.fixture
def kube_cluster() -> Iterator[KubeCluster]:
    with KubeCluster() as cluster:
        yield cluster


@pytest.fixture
def kube_api(kube_cluster: KubeCluster, monkeypatch: pytest.MonkeyPatch) -> KubeCluster:
    monkeypatch.setenv(KUBE_API_ENV, kube_cluster.url)
    return kube_cluster


@pytest.fixture
def kopf_operator() -> Iterator[Callable[..., KopfOperator]]:
    started: list[KopfOperator] = []

    def start(registry: kopf.OperatorRegistry, **options: Any) -> KopfOperator:
        operator = KopfOperator(registry, **options)
        started.append(operator)
        return operator.start()

    yield start
    for operator in started:
        operator.stop()
