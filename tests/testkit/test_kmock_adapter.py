"""kmock stays behind testkit/kube/kmock_adapter.py, and what the adapter takes from kmock is there.

A kmock upgrade that moves a protected member fails here first, with the
reason the adapter needs it (rather than as a hang or a 500 deep in a kopf test).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
from importlib.metadata import version
from pathlib import Path

import kmock
import pytest

from testkit.kube import KubeCluster
from testkit.kube.kmock_adapter import PROTECTED, UNLISTED

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "testkit" / "kube" / "kmock_adapter.py"


def _imports_kmock(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(name == "kmock" or name.startswith("kmock.") for name in names):
            return True
    return False


def test_only_the_adapter_imports_kmock() -> None:
    code = [p for top in ("testkit", "copilot_proxy", "bench") for p in (ROOT / top).rglob("*.py")]
    importers = sorted(str(p.relative_to(ROOT)) for p in code if _imports_kmock(p))
    assert importers == [str(ADAPTER.relative_to(ROOT))]


def test_nothing_of_ours_reaches_into_kmock_internal() -> None:
    code = [*(ROOT / "testkit").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    assert [p for p in code if "kmock._internal" in p.read_text() and p != Path(__file__)] == []


@pytest.mark.parametrize(("name", "reason"), sorted(PROTECTED.items()))
def test_kmock_still_has_what_the_adapter_uses(name: str, reason: str) -> None:
    emulator = kmock.KubernetesEmulator()  # attrs fields exist on instances only
    where = f"kmock {version('kmock')}: KubernetesEmulator.{name}"
    assert hasattr(emulator, name), f"{where} is gone; the adapter uses it for: {reason}"
    member = getattr(emulator, name)
    if name == "_serve_watch":
        assert inspect.isasyncgenfunction(member), f"{where} is no longer a stream ({reason})"
    elif name.startswith("_serve_") or name == "_handle":
        assert inspect.iscoroutinefunction(member), f"{where} is no longer async ({reason})"
    elif name == "_lock":
        assert isinstance(member, asyncio.Lock), f"{where} is no longer an asyncio.Lock"
    elif name == "_payloads":
        assert isinstance(member, list), f"{where} is no longer a list of reactions"
    elif name == "_buses":
        assert inspect.iscoroutinefunction(member[kmock.resource("v1/pods")].put), where


@pytest.mark.parametrize(("name", "reason"), sorted(UNLISTED.items()))
def test_kmock_still_exports_what_the_adapter_imports(name: str, reason: str) -> None:
    assert hasattr(kmock, name), f"kmock {version('kmock')} has no {name}; used for: {reason}"


def test_a_reaction_of_a_tests_own_answers_and_the_store_still_works(
    kube_cluster: KubeCluster,
) -> None:
    """With a reaction added by kmock's DSL, requests take kmock's matching (the slow way)."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "before"}}
    kube_cluster.create(cm, "default")
    kube_cluster.emulator["get /custom"] << {"hello": "world"}
    assert kube_cluster.request("GET", "/custom").json() == {"hello": "world"}
    after = {**cm, "metadata": {"name": "after", "labels": {"a": "b"}}}
    created = kube_cluster.create(after, "default")
    assert created["metadata"]["generation"] == 1  # our hooks still stamp what kmock stores
    assert [o["metadata"]["name"] for o in kube_cluster.list("cm", "default", {"a": "b"})] == [
        "after"
    ]
    assert kube_cluster.get("ConfigMap", "default", "before") is not None
