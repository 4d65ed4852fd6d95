"""Field selectors (`metadata.name=x,involvedObject.uid!=y`), as the API server applies them.

kubectl uses them: `kubectl wait` lists and watches `metadata.name=NAME`,
`kubectl describe` lists the events whose `involvedObject` is the object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_REQUIREMENT = re.compile(r"\s*(?P<key>[A-Za-z0-9._-]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^,]*)")


def field_selector(selector: str) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate on an object for a `fieldSelector` string."""
    requirements: list[tuple[str, bool, str]] = []  # (dotted path, equal, value)
    for part in filter(None, (p.strip() for p in selector.split(","))):
        match = _REQUIREMENT.fullmatch(part)
        if match is None:
            raise ValueError(f"unparsable field selector: {selector!r}")
        requirements.append((match["key"], match["op"] != "!=", match["value"].strip()))

    def matches(obj: Mapping[str, Any]) -> bool:
        return all((_value(obj, key) == value) == equal for key, equal, value in requirements)

    return matches


def _value(obj: Mapping[str, Any], dotted: str) -> str:
    value: Any = obj
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)
