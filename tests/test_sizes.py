"""The style guide's limits, held: a product module reads at once (300 lines at most) and so
does each of its functions (60 lines at most). A newcomer reads the package in an
afternoon only if nothing in it grows past these."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "copilot_proxy"
MODULE_LINES = 300
FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_is_there() -> None:
    assert len(_modules()) > 50


def test_every_module_is_at_most_300_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in _modules() if (n := _lines(p)) > MODULE_LINES}
    assert long == {}, f"split these modules (limit {MODULE_LINES} lines): {long}"


def test_every_function_is_at_most_60_lines() -> None:
    long = {
        f"{p.relative_to(PACKAGE)}:{node.name}": size
        for p in _modules()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (size := (node.end_lineno or node.lineno) - node.lineno + 1) > FUNCTION_LINES
    }
    assert long == {}, f"split these functions (limit {FUNCTION_LINES} lines): {long}"


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())
