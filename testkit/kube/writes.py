"""What the API server does to a write before it is stored, on plain dicts: metadata stamps
(uid, creationTimestamp, resourceVersion, a generation that moves on spec changes only,
generateName), a Secret's stringData, the status subresource, patch errors, the 1 MiB
limit of a ConfigMap's or Secret's data.
"""

from __future__ import annotations

import base64
import datetime
import secrets
import uuid
from collections.abc import Callable
from typing import Any

import jsonpatch
import jsonpointer

from testkit.kube.kmock_adapter import KubernetesError, patched

Obj = dict[str, Any]
NextVersion = Callable[[], str]  # the next resourceVersion of the whole cluster


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp_new(obj: Obj, next_version: NextVersion) -> None:
    meta = obj.setdefault("metadata", {})
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now()
    meta["resourceVersion"] = next_version()
    meta["generation"] = 1


# ConfigMaps and Secrets: "must have at most 1048576 bytes" (data and binaryData together).
MAX_DATA_BYTES = 1024 * 1024


def check_data_size(kind: str, obj: Obj) -> None:
    """422 for a ConfigMap or Secret whose data exceed 1 MiB, as the API server answers."""
    data = {**(obj.get("data") or {}), **(obj.get("binaryData") or {})}
    size = sum(len(str(k)) + len(str(v or "")) for k, v in data.items())
    if size > MAX_DATA_BYTES:
        raise KubernetesError(
            status=422,
            reason="Invalid",
            message=f'{kind} "{(obj.get("metadata") or {}).get("name", "")}" is invalid: []:'
            f" Too long: must have at most {MAX_DATA_BYTES} bytes",
            details={},
        )


def store_string_data(secret: Obj) -> None:
    """The API server stores stringData as base64 data and never returns it."""
    plain = secret.pop("stringData")
    encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in plain.items()}
    secret["data"] = {**(secret.get("data") or {}), **encoded}


def apply_patch(live: Obj, patch: Any) -> Obj:
    """`live` after `patch`, or the error the API server answers for a patch that does not apply."""
    try:
        return patched(live, patch)
    except jsonpatch.JsonPatchTestFailed as error:
        # kopf guards its JSON patches with a test of resourceVersion: 422 means "retry".
        raise KubernetesError(422, "Invalid", f"test failed: {error}", {}) from None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
        raise KubernetesError(422, "Invalid", str(error), {}) from None
    except ValueError as error:  # a dict merged into a scalar or the reverse
        raise KubernetesError(400, "BadRequest", str(error), {}) from None


def stamp_update(patch: Any, live: Obj, next_version: NextVersion) -> None:
    """Add to `patch` a new resourceVersion, the generation, and the immutable metadata."""
    after = apply_patch(live, patch)
    meta = live.get("metadata") or {}
    stamp: Obj = {"resourceVersion": next_version()}
    if _content(after) != _content(live):
        stamp["generation"] = int(meta.get("generation") or 1) + 1
    for immutable in ("uid", "creationTimestamp"):
        if immutable in meta:
            stamp[immutable] = meta[immutable]
    _add_metadata(patch, stamp)


def _content(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def keep_status(data: Any, *, only: bool) -> None:
    """Status subresource: /status changes only status; the object never changes status."""
    if isinstance(data, dict):
        for key in list(data):
            if (key == "status") != only:
                del data[key]
    elif isinstance(data, list):
        data[:] = [
            op
            for op in data
            if isinstance(op, dict)
            and (op.get("op") == "test" or str(op.get("path", "")).startswith("/status") == only)
        ]


def _add_metadata(data: Any, stamp: Obj) -> None:
    if isinstance(data, dict):
        meta = data.get("metadata")
        if not isinstance(meta, dict):
            meta = data["metadata"] = {}
        meta.update(stamp)
    elif isinstance(data, list):
        data.extend({"op": "add", "path": f"/metadata/{k}", "value": v} for k, v in stamp.items())
