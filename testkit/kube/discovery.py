"""Discovery as kubectl reads it: /version, /api, /api/v1, /apis, /apis/GROUP[/VERSION] (pure).

Shapes as a v1.32 API server answers them (k8s.io/apimachinery meta/v1
APIVersions, APIGroupList, APIGroup, APIResourceList): the core group's
groupVersion is `v1`; a subresource is listed as `plural/sub` with the verbs
it has and no short names (a short name on it would make `kubectl get cpx`
ambiguous); `scale` is an autoscaling/v1 Scale. kubectl asks for aggregated
discovery first and takes these legacy documents when the answer is plain JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

# A version the chart's kubeVersion (>=1.28) accepts, and the kubectl that
# `make helm` fetches (v1.32) is within its supported skew of.
SERVER_VERSION: Obj = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.3",
    "gitCommit": "32cc146f75aad04beaaa245a7157eb35063a9f99",
    "gitTreeState": "clean",
    "buildDate": "2025-03-11T19:52:21Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class Served:
    """One resource the emulator serves, as discovery describes it."""

    group: str  # '' for the core group
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool
    verbs: tuple[str, ...]
    shortnames: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = field(default=())

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def api_versions() -> Obj:
    """/api"""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }


def _group(name: str, versions: list[str]) -> Obj:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def _versions_by_group(served: Iterable[Served]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for s in served:
        if s.group and s.version not in groups.setdefault(s.group, []):
            groups[s.group].append(s.version)
    return groups


def api_groups(served: Iterable[Served]) -> Obj:
    """/apis"""
    groups = _versions_by_group(served)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, versions) for name, versions in sorted(groups.items())],
    }


def api_group(served: Iterable[Served], name: str) -> Obj | None:
    """/apis/GROUP, None for a group not served."""
    versions = _versions_by_group(served).get(name)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def resource_list(served: Iterable[Served], group_version: str) -> Obj | None:
    """/api/v1 or /apis/GROUP/VERSION, None for a version not served."""
    mine = sorted((s for s in served if s.group_version == group_version), key=lambda s: s.plural)
    if not mine:
        return None
    resources: list[Obj] = []
    for s in mine:
        resources.append(
            {
                "name": s.plural,
                "singularName": s.singular,
                "namespaced": s.namespaced,
                "kind": s.kind,
                "verbs": sorted(s.verbs),
                **({"shortNames": sorted(s.shortnames)} if s.shortnames else {}),
                **({"categories": sorted(s.categories)} if s.categories else {}),
            }
        )
        for sub in sorted(s.subresources):
            scale = sub == "scale"
            resources.append(
                {
                    "name": f"{s.plural}/{sub}",
                    "singularName": "",
                    "namespaced": s.namespaced,
                    "kind": "Scale" if scale else s.kind,
                    **({"group": "autoscaling", "version": "v1"} if scale else {}),
                    "verbs": ["get", "patch", "update"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
