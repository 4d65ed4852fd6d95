"""kmock behind one door: the only module of ours that imports kmock.

kmock's `KubernetesEmulator` stores objects as dicts, serves list, watch and
discovery, and records requests. `KmockEmulator` gives the rest of testkit.kube
what it builds on, under names that say what they do:
- `handle(request)`: every request, before kmock stores anything; a subclass
  wraps `store_and_answer(request)` (kmock's own handling);
- `serve_list`, `serve_watch`, `serve_fetch`, `serve_create`, `serve_update`,
  `serve_delete`: kmock's answers from its store, for a subclass to filter;
- `route(request)`: the handler of a request that names no object (discovery);
- `locked()`, `publish()`, `patched()`: kmock's store lock, its watch streams,
  its patch semantics.

Public kmock API used (`kmock.__all__`): KubernetesEmulator, RawHandler,
Request, Payload, action, method, KubernetesError, ResourceInfo, resource,
Object (raw, deleted, delete, patch, history), and an emulator's `objects`,
`resources`, `errors`. What kmock offers no public way to do is in `PROTECTED`
and `UNLISTED` below, each with its reason; tests/testkit/test_kmock_adapter.py
fails with that reason when a kmock upgrade moves one of them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, cast

import aiohttp.web
import kmock

Request = kmock.Request
Payload = kmock.Payload
Action = kmock.action
KubernetesError = kmock.KubernetesError
ResourceInfo = kmock.ResourceInfo
Handler = Callable[[Request], Any]  # answers a Payload, an awaitable or an async iterator of them
WATCH_CONTENT_TYPE = "application/json;stream=watch"

# Protected members of kmock's KubernetesEmulator we rely on, and why there is no public way.
PROTECTED = {
    "_handle": "the one place that sees a request before kmock stores its change",
    "_serve_list": "kmock's list answer, to filter by label selector",
    "_serve_watch": "kmock's watch stream, to filter by label selector and resourceVersion",
    "_serve_fetch": "kmock's answer to GET of one object, served without reaction matching",
    "_serve_create": "kmock's answer to a create, served without reaction matching",
    "_serve_update": "kmock's answer to a patch, served without reaction matching",
    "_serve_delete": "kmock's answer to a delete, served without reaction matching",
    "_serve_root": "discovery (/), served without reaction matching",
    "_serve_api": "discovery (/api), served without reaction matching",
    "_serve_apis": "discovery (/apis), served without reaction matching",
    "_serve_group": "discovery (/apis/GROUP), served without reaction matching",
    "_serve_version": "discovery (/api/v1, /apis/GROUP/VERSION), served without reaction matching",
    "_serve_server_version": "discovery (/version), served without reaction matching",
    "_payloads": "the reactions registered so far: none of a test's own means serve directly",
    "_lock": "kmock's store lock, held while we edit what kmock is about to store",
    "_buses": "the watch streams, for changes kmock does not make itself (GC, deletion marks)",
}
# Names kmock imports at its top level but leaves out of `kmock.__all__`.
UNLISTED = {
    "Response": "renders a payload (dict, stream, callable) as kmock's own reactions do, "
    "with headers (a watch's Content-Type)",
}

# The discovery paths, as kmock's KubernetesScaffold routes them (see PROTECTED).
_DISCOVERY = [
    (re.compile(r"/apis/[^/]+/[^/]+"), "_serve_version"),
    (re.compile(r"/apis/[^/]+"), "_serve_group"),
    (re.compile(r"/api/[^/]+"), "_serve_version"),
    (re.compile(r"/version"), "_serve_server_version"),
    (re.compile(r"/apis"), "_serve_apis"),
    (re.compile(r"/api"), "_serve_api"),
    (re.compile(r"/"), "_serve_root"),
]


def resource_key(resource: Any) -> str:
    """'group/version/plural' (core: 'v1/plural') of a kmock resource."""
    group = f"{resource.group}/" if resource.group else ""
    return f"{group}{resource.version}/{resource.plural}"


def resource_ref(key: str) -> Any:
    """kmock's resource for 'group/version/plural', as `objects` keys name it."""
    return kmock.resource(key)


def patched(live: dict[str, Any], patch: Any) -> dict[str, Any]:
    """`live` after `patch` (a merge-patch dict or a JSON-patch list), as kmock will store it.

    Raises what kmock's patching raises: jsonpatch errors, ValueError.
    """
    probe = kmock.Object(live)  # a copy: patch() leaves `live` as it is
    probe.patch(patch)
    return probe.raw


class _DirectDispatch(kmock.RawHandler):
    """Serve requests straight from the emulator's handlers, between kmock's store and its matching.

    kmock matches every request against its reactions by walking every request
    recorded so far, so a request costs more the longer a test runs (130 ms
    after a few hundred; kopf's discovery at a restart took seconds). Without
    reactions of a test's own, there is nothing to match: the emulator's
    handlers answer. Reactions added with kmock's DSL (`emulator['get /x'] << ...`)
    still work, the slow way.
    """

    async def _handle(self, request: Request) -> aiohttp.web.StreamResponse:
        emulator = cast(KmockEmulator, self)
        serve = None
        if len(self._payloads) == emulator.builtin_reactions:
            serve = emulator.route(request)
        if serve is None:
            return await super()._handle(request)
        response = kmock.Response.guess(serve)  # type: ignore[attr-defined]  # see UNLISTED
        answer: aiohttp.web.StreamResponse = await response(request)
        return answer


class KmockEmulator(kmock.KubernetesEmulator, _DirectDispatch):
    """kmock's emulator with the hooks named in this module's docstring."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.builtin_reactions = len(self._payloads)

    # -- hooks for a subclass --------------------------------------------------------

    async def handle(self, request: Request) -> aiohttp.web.StreamResponse:
        """Serve one request; raise KubernetesError to answer an API error."""
        return await self.store_and_answer(request)

    async def store_and_answer(self, request: Request) -> aiohttp.web.StreamResponse:
        """kmock's handling: store the change, tell the watches, answer."""
        return await super()._handle(request)

    def route(self, request: Request) -> Handler | None:
        """The handler that answers `request` (discovery, or an action on objects), if any."""
        if request.resource is None or request.resource.plural is None:
            if request.method != kmock.method.GET:
                return None
            path = request.url.path.rstrip("/") or "/"
            for pattern, serve in _DISCOVERY:
                if pattern.fullmatch(path):
                    handler: Handler = getattr(self, serve)
                    return handler
            return None
        handlers: dict[Any, Handler] = {
            kmock.action.LIST: self.serve_list,
            kmock.action.WATCH: self._streamed_watch,
            kmock.action.FETCH: self.serve_fetch,
            kmock.action.CREATE: self.serve_create,
            kmock.action.UPDATE: self.serve_update,
            kmock.action.DELETE: self.serve_delete,
        }
        return handlers.get(request.action) if request.action is not None else None

    def _streamed_watch(self, request: Request) -> Any:
        """The watch, typed as the API server types it (client-go's watch decoder needs it)."""
        return kmock.Response(  # type: ignore[attr-defined]  # see UNLISTED
            payload=self.serve_watch(request), headers={"Content-Type": WATCH_CONTENT_TYPE}
        )

    async def serve_list(self, request: Request) -> Any:
        return await super()._serve_list(request)

    def serve_watch(self, request: Request) -> AsyncIterator[Any]:
        return cast(AsyncIterator[Any], super()._serve_watch(request))

    async def serve_fetch(self, request: Request) -> Any:
        return await super()._serve_fetch(request)

    async def serve_create(self, request: Request) -> Any:
        return await super()._serve_create(request)

    async def serve_update(self, request: Request) -> Any:
        return await super()._serve_update(request)

    async def serve_delete(self, request: Request) -> Any:
        return await super()._serve_delete(request)

    # -- kmock's store -----------------------------------------------------------------

    def locked(self) -> AbstractAsyncContextManager[Any]:
        """kmock's store lock (an asyncio lock: hold it in the emulator's loop only)."""
        return cast(AbstractAsyncContextManager[Any], self._lock)

    async def publish(self, resource: Any, event: dict[str, Any]) -> None:
        """Tell the watches of `resource` about a change made outside kmock's handling."""
        await self._buses[resource].put(event)

    # -- kmock's entry points, routed to the hooks above -------------------------------

    async def _handle(self, request: Request) -> aiohttp.web.StreamResponse:
        return await self.handle(request)

    async def _serve_list(self, request: Request) -> Any:
        return await self.serve_list(request)

    def _serve_watch(self, request: Request) -> AsyncIterator[Any]:
        return self.serve_watch(request)

    async def _serve_fetch(self, request: Request) -> Any:
        return await self.serve_fetch(request)

    async def _serve_create(self, request: Request) -> Any:
        return await self.serve_create(request)

    async def _serve_update(self, request: Request) -> Any:
        return await self.serve_update(request)

    async def _serve_delete(self, request: Request) -> Any:
        return await self.serve_delete(request)
