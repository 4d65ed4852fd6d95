"""Server-side printing: a list or an object as a meta.k8s.io/v1 Table (pure).

kubectl get asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
and prints the Table's cells; `-o wide` adds the columns of priority 1. A
custom resource's columns are its CRD's additionalPrinterColumns after `Name`
(the apiextensions server's table convertor: the first JSONPath match, dates
as ages); a few built-ins have the columns their printers give; anything else
gets Name and Age.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]
Cell = Callable[[Obj, datetime], Any]

TABLE_ACCEPT = "as=Table"


def wants_table(accept: str) -> bool:
    return TABLE_ACCEPT in accept and "g=meta.k8s.io" in accept


# -- a JSONPath subset: .a.b, [0], [*], [?(@.key=="value")] ------------------------------

_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.-]+)==\"([^\"]*)\"\)\]")


def jsonpath(obj: Any, path: str) -> list[Any]:
    """Every value `path` names in `obj` (a JSONPath as CRD printer columns write them)."""
    values = [obj]
    pos = 0
    while pos < len(path):
        step = _STEP.match(path, pos)
        if step is None:
            raise ValueError(f"unsupported JSONPath {path!r} at {path[pos:]!r}")
        pos = step.end()
        key, index, field_path, wanted = step.groups()
        found: list[Any] = []
        for value in values:
            if key is not None and isinstance(value, dict) and key in value:
                found.append(value[key])
            elif index == "*" and isinstance(value, list):
                found.extend(value)
            elif index is not None and index != "*" and isinstance(value, list):
                found.extend(value[int(index) : int(index) + 1])
            elif field_path is not None and isinstance(value, list):
                found.extend(v for v in value if _str(jsonpath(v, "." + field_path)) == wanted)
        values = found
    return values


def _str(values: list[Any]) -> str | None:
    return str(values[0]) if values else None


# -- ages as kubectl shows them (k8s.io/apimachinery/pkg/util/duration.HumanDuration) ---


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 120:
        return f"{max(s, 0)}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = divmod(hours // 24, 365)
    return f"{years}y{days}d" if days and hours < 24 * 365 * 8 else f"{years}y"


def age(timestamp: Any, now: datetime) -> str:
    try:
        then = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    return human_duration((now - then).total_seconds())


# -- columns -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    cell: Cell
    priority: int = 0
    format: str = ""
    description: str = ""

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


NAME = Column(
    "Name",
    "string",
    lambda o, _: o["metadata"]["name"],
    format="name",
    description="Name must be unique within a namespace.",
)
AGE = Column(
    "Age",
    "string",
    lambda o, now: age(o["metadata"].get("creationTimestamp"), now),
    description="CreationTimestamp is when this object was created.",
)


def printer_columns(columns: Iterable[Mapping[str, Any]]) -> list[Column]:
    """A CRD version's additionalPrinterColumns, after Name."""
    found = [NAME]
    for c in columns:
        found.append(
            Column(
                c["name"],
                c["type"],
                _printer_cell(c["jsonPath"], c["type"]),
                priority=int(c.get("priority", 0)),
                format=c.get("format", ""),
                description=c.get("description", ""),
            )
        )
    return found


def _printer_cell(path: str, kind: str) -> Cell:
    def cell(obj: Obj, now: datetime) -> Any:
        values = jsonpath(obj, path)
        if not values:
            return None
        return age(values[0], now) if kind == "date" else values[0]

    return cell


def _path(path: str, default: Any = None) -> Cell:
    return lambda o, _: next(iter(jsonpath(o, path)), default)


BUILTIN_COLUMNS: dict[str, list[Column]] = {
    "v1/secrets": [
        NAME,
        Column("Type", "string", _path(".type", "Opaque")),
        Column("Data", "string", lambda o, _: len(o.get("data") or {})),
        AGE,
    ],
    "v1/configmaps": [NAME, Column("Data", "string", lambda o, _: len(o.get("data") or {})), AGE],
    "v1/namespaces": [NAME, Column("Status", "string", _path(".status.phase", "Active")), AGE],
    "apps/v1/deployments": [
        NAME,
        Column(
            "Ready",
            "string",
            lambda o, _: (
                f"{_path('.status.readyReplicas', 0)(o, _)}/{_path('.spec.replicas', 1)(o, _)}"
            ),
        ),
        Column("Up-to-date", "integer", _path(".status.updatedReplicas", 0)),
        Column("Available", "integer", _path(".status.availableReplicas", 0)),
        AGE,
    ],
}


def columns_for(resource: str, crd_columns: Mapping[str, list[Column]]) -> list[Column]:
    """The columns of 'group/version/plural'."""
    return crd_columns.get(resource) or BUILTIN_COLUMNS.get(resource) or [NAME, AGE]


def table(
    objects: list[Obj],
    columns: list[Column],
    resource_version: str,
    include: str = "Metadata",
    now: datetime | None = None,
) -> Obj:
    """The Table of `objects`; each row carries the object as `includeObject` asks."""
    now = now or datetime.now(UTC)
    rows = []
    for obj in objects:
        row: Obj = {"cells": [c.cell(obj, now) for c in columns]}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata") or {},
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [c.definition() for c in columns],
        "rows": rows,
    }
