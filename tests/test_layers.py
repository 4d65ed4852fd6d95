"""Every import points down a layer, and no modules import each other in a circle.

Layers of copilot_proxy/ (docs/contracts.md, README "Layout"), each may import
only from the layers below it:

    cli  >  local  >  operator | auth | litellm  >  kube | github  >  core

operator, auth and litellm never import each other, nor do kube and github;
core imports nothing of ours but core; kube imports nothing of ours. Every import counts, also one
inside a function or under TYPE_CHECKING: it is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "copilot_proxy"

# Rank of each layer; the three services of one rank are separate components.
LAYERS = {
    "core": 0,
    "kube": 1,
    "github": 1,
    "operator": 2,
    "auth": 2,
    "litellm": 2,
    "local": 3,
    "cli": 4,
}
# Infrastructure that imports nothing of ours (not even the core).
STANDALONE = {"kube"}

Edges = Mapping[str, set[str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(name: str, modules: set[str]) -> str | None:
    """The module of ours `name` is, or is in (`pkg.mod.attr` -> `pkg.mod`)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package upwards
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            # `from pkg import mod` imports the module pkg.mod when there is one.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / PACKAGE).rglob("*.py")}
    modules = set(files)
    edges: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = (
            resolve(n, modules) for n in imported_names(tree, module, path.stem == "__init__")
        )
        edges[module] = {t for t in targets if t and t != module}
    return edges


def layer_of(module: str) -> tuple[int, str] | None:
    """(rank, component) of one of our modules; None for the package's own __init__."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    component = parts[1]
    if component not in LAYERS:
        raise AssertionError(f"{module}: in no layer; add {component!r} to LAYERS")
    return LAYERS[component], component


def layer_violations(edges: Edges) -> list[str]:
    found = []
    for module, targets in sorted(edges.items()):
        here = layer_of(module)
        for target in sorted(targets):
            there = layer_of(target)
            if here is None or there is None or here[1] == there[1]:
                continue
            if there[0] >= here[0] or here[1] in STANDALONE:
                found.append(f"{module} imports {target} ({here[1]} may not import {there[1]})")
    return found


def cycles(edges: Edges) -> list[list[str]]:
    """The import circles: strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


# -- the check --------------------------------------------------------------------------


def test_every_import_points_down_a_layer() -> None:
    assert layer_violations(import_graph()) == []


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_the_graph_sees_every_kind_of_import() -> None:
    edges = import_graph()
    # `from pkg import module`, a plain import, and a late import inside a function.
    assert "copilot_proxy.core.names" in edges["copilot_proxy.core.spec"]
    assert "copilot_proxy.core.render" in edges["copilot_proxy.cli"]
    assert "copilot_proxy.operator.handlers" in edges["copilot_proxy.cli"]


# -- the checker itself, on made-up graphs ------------------------------------------------


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("copilot_proxy.core.spec", "copilot_proxy.kube"),
        ("copilot_proxy.kube", "copilot_proxy.operator.reconcile"),
        ("copilot_proxy.kube", "copilot_proxy.core.names"),
        ("copilot_proxy.auth.app", "copilot_proxy.operator.reconcile"),
        ("copilot_proxy.litellm.proxy_log", "copilot_proxy.auth.config"),
        ("copilot_proxy.operator.handlers", "copilot_proxy.local.main"),
        ("copilot_proxy.local.main", "copilot_proxy.cli"),
    ],
)
def test_an_import_from_a_higher_or_sibling_layer_is_found(module: str, target: str) -> None:
    [found] = layer_violations({module: {target}})
    assert found.startswith(f"{module} imports {target}")


def test_imports_down_and_within_a_component_are_fine() -> None:
    edges = {
        "copilot_proxy.cli": {"copilot_proxy.local.main", "copilot_proxy.core.render"},
        "copilot_proxy.local.main": {"copilot_proxy.auth.app", "copilot_proxy.local.state"},
        "copilot_proxy.auth.app": {"copilot_proxy.kube", "copilot_proxy.auth.deps"},
        "copilot_proxy.kube": set(),
    }
    assert layer_violations(edges) == []


def test_a_circle_is_found_also_within_one_layer() -> None:
    edges = {
        "copilot_proxy.local.a": {"copilot_proxy.local.b"},
        "copilot_proxy.local.b": {"copilot_proxy.local.c"},
        "copilot_proxy.local.c": {"copilot_proxy.local.a", "copilot_proxy.core.x"},
        "copilot_proxy.core.x": set(),
    }
    assert cycles(edges) == [
        ["copilot_proxy.local.a", "copilot_proxy.local.b", "copilot_proxy.local.c"]
    ]
