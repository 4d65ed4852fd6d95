"""Label selectors (equality- and set-based), as the API server applies them to list and watch."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_REQUIREMENT = re.compile(
    r"\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*(?:,|$)"
)


def label_selector(selector: str) -> Callable[[Mapping[str, str]], bool]:
    """A predicate on an object's labels for a `labelSelector` string."""
    requirements: list[tuple[str, str, set[str]]] = []  # (operator, key, values)
    pos = 0
    while pos < len(selector):
        match = _REQUIREMENT.match(selector, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"unparsable label selector: {selector!r}")
        pos = match.end()
        if match["neg"]:
            requirements.append(("absent", match["key"], set()))
        elif match["op"]:
            op = "notin" if match["op"] == "!=" else "in"
            requirements.append((op, match["key"], {match["value"]}))
        elif match["setop"]:
            values = {v.strip() for v in match["values"].split(",") if v.strip()}
            requirements.append((match["setop"], match["key"], values))
        else:
            requirements.append(("present", match["key"], set()))

    def matches(labels: Mapping[str, str]) -> bool:
        for op, key, values in requirements:
            ok = {
                "absent": key not in labels,
                "present": key in labels,
                "in": labels.get(key) in values,
                "notin": labels.get(key) not in values,
            }[op]
            if not ok:
                return False
        return True

    return matches


def labels_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}
