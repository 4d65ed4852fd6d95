"""A Kubernetes API server for tests: kmock's emulator, a little closer to the real one.

Every test that needs Kubernetes (the operator, the login service's Secret
store, the local mode, benchmarks) uses this one set-up; kmock, not a cluster,
because there is no cluster (or Docker) where the tests run.

Use (fixtures in tests/kube/plugin.py):

    def test_x(kube_api: KubeCluster) -> None:   # COPILOT_PROXY_KUBE_API points at it
        kube_api.create({"apiVersion": "v1", "kind": "Secret", "metadata": {...}}, "ns")
        kube_api.patch("Secret", "ns", "name", {"data": {...}})     # a JSON merge patch
        assert kube_api.get("Secret", "ns", "name")["data"] == ...
        fault = kube_api.fail("create", "Secret", status=500)       # the next create fails
        wait_for_sync(lambda: ..., timeout=5)        # or `await wait_for(...)` (testkit.waiting)

Modules:
- `cluster`: `KubeCluster`, the server in a thread with its own event loop, so
  any client works against it, sync or async (kopf, the `kubernetes` package,
  httpx); `kopf_runner` runs kopf in a thread too.
- `client`: the sync helpers (`KubeClient`: get, list, create, patch, apply,
  delete, events, set_deployment_ready), by kind, plural or short name.
- `server`: `ClusterEmulator`, the API-server behaviour the project relies on
  (metadata, generation, status subresource, defaults, label selectors, garbage
  collection; see its docstring); `writes`, `defaults`, `labels`: parts of it.
- `faults`: injected failures (`KubeCluster.fail`), before or after a change is stored.
- `kmock_adapter`: the only module that imports kmock.

- `surface`: what kubectl reads besides objects: discovery (`discovery`),
  OpenAPI v3 (`openapi`), Tables (`tables`), list kinds, field selectors
  (`fields`); tests/operator/test_kubectl.py runs the real kubectl on it.

Not emulated, so covered elsewhere or not relied on (docs/contracts.md lists
them): schema validation and CRD defaulting (CRD schema tests use jsonschema),
resourceVersion conflicts on writes (inject a 409), strategic-merge semantics
(every patch is a JSON merge patch; lists are replaced), PUT, server-side
apply, RBAC, controllers and the kubelet (a Deployment gets a status only when
a test sets one: `set_deployment_ready`).
"""

from testkit.kube.client import ApiError, KubeClient
from testkit.kube.cluster import KubeCluster
from testkit.kube.faults import Fault
from testkit.kube.labels import label_selector

__all__ = ["ApiError", "Fault", "KubeClient", "KubeCluster", "label_selector"]
