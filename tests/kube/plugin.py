"""pytest fixtures for the emulated Kubernetes API; registered in tests/conftest.py.

- `kube_cluster`: a fresh `KubeCluster` per test (the emulator in its own
  thread, every built-in resource the project touches declared, the real CRD
  from crds/ served and stored, namespace `default`).
- `kube_api`: the same, with `COPILOT_PROXY_KUBE_API` pointing at it, so the
  operator, the auth service and `copilot_proxy.kube` talk to it.
- `kopf_operator`: a factory `await kopf_operator(registry, namespaces=None)`
  -> a started `OperatorTask` (kopf in the test's loop), stopped at teardown.

Waiting: `tests.kube.emulator.wait_for` (async) and `wait_for_sync`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import kopf
import pytest
import pytest_asyncio

from tests.kube.emulator import KubeCluster
from tests.kube.operator_task import OperatorTask

KUBE_API_ENV = "COPILOT_PROXY_KUBE_API"


@pytest.fixture
def kube_cluster() -> Iterator[KubeCluster]:
    with KubeCluster() as cluster:
        yield cluster


@pytest.fixture
def kube_api(kube_cluster: KubeCluster, monkeypatch: pytest.MonkeyPatch) -> KubeCluster:
    monkeypatch.setenv(KUBE_API_ENV, kube_cluster.url)
    return kube_cluster


@pytest_asyncio.fixture
async def kopf_operator() -> AsyncIterator[Callable[..., Awaitable[OperatorTask]]]:
    started: list[OperatorTask] = []

    async def start(registry: kopf.OperatorRegistry, **options: Any) -> OperatorTask:
        task = OperatorTask(registry, **options)
        started.append(task)
        await task.start()
        return task

    yield start
    for task in started:
        await task.stop()
