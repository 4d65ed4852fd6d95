"""The defaults the API server fills in on every write, for the kinds the project writes.

An operator that compares its desired object with the live one must not take
them for drift (or it patches forever). A representative set, applied wherever
the structures appear in a create's body or a merge patch (lists are replaced
whole, so defaults go in again, as the server would add them again).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]


_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1}


def _fill(target: Any, defaults: Mapping[str, Any]) -> None:
    if isinstance(target, dict):
        for key, value in defaults.items():
            target.setdefault(key, copy.deepcopy(value))


def _default_pod_spec(pod: Any) -> None:
    if not isinstance(pod, dict):
        return
    _fill(
        pod,
        {
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
        },
    )
    for container in pod.get("containers") or []:
        if not isinstance(container, dict):
            continue
        _fill(
            container,
            {
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
            },
        )
        for port in container.get("ports") or []:
            _fill(port, {"protocol": "TCP"})
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if isinstance(container.get(probe), dict):
                _fill(container[probe], {**_PROBE_DEFAULTS, "failureThreshold": 3})
                _fill(container[probe].get("httpGet"), {"scheme": "HTTP"})


def apply_defaults(resource: str, obj: Obj, creating: bool) -> None:
    spec = obj.get("spec")
    if resource == "apps/v1/deployments" and isinstance(spec, dict):
        if creating:
            _fill(spec, {"revisionHistoryLimit": 10, "progressDeadlineSeconds": 600})
        _default_pod_spec((spec.get("template") or {}).get("spec"))
    elif resource == "v1/services" and isinstance(spec, dict):
        if creating:
            _fill(
                spec,
                {
                    "type": "ClusterIP",
                    "sessionAffinity": "None",
                    "clusterIP": "10.96.0.10",
                    "clusterIPs": ["10.96.0.10"],
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "internalTrafficPolicy": "Cluster",
                },
            )
        for port in spec.get("ports") or []:
            _fill(port, {"protocol": "TCP"})
            if isinstance(port, dict) and "port" in port:
                port.setdefault("targetPort", port["port"])
    elif resource == "v1/secrets" and creating:
        obj.setdefault("type", "Opaque")
        if obj.get("data") == {}:
            del obj["data"]  # an empty map is not stored
