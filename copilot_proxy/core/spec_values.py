"""The checks every field of a CopilotProxy spec shares (pure): types, ranges, unknown keys.

Each failure is a SpecError naming the field a user must fix.
"""

from __future__ import annotations

from typing import Any


class SpecError(ValueError):
    """A spec the operator cannot serve; `field` is the path a user must fix."""

    def __init__(self, field: str, message: str) -> None:
        where = field if field.startswith("metadata.") else f"spec.{field}"
        super().__init__(f"{where}: {message}")
        self.field = field
        self.message = message


def _only(raw: dict[str, Any], where: str, known: set[str]) -> dict[str, Any]:
    """Refuse unknown fields, as `kubectl apply` does: a typo must not be ignored."""
    for key in raw:
        if key not in known:
            raise SpecError(f"{where}{key}", "unknown field; known: " + ", ".join(sorted(known)))
    return raw


def _mapping(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise SpecError(key, "must be a mapping")
    return value


def _list(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise SpecError(key, "must be a list")
    return value


def _bool(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise SpecError(key, f"must be true or false, not {value!r}")
    return value


def _int(raw: dict[str, Any], where: str, key: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(where + key, f"must be a whole number from {low} to {high}, not {value!r}")
    return value
