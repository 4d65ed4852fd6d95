"""The Copilot plan and quota of every signed-in proxy, read in the background.

`GET /api/proxies` and `/metrics` need no credential: if they made the service
call GitHub with a stored token, anyone who can reach the page could make it
send tokens out (and, with a resource's own URLs, to anyone). So they only read
this cache; a task refreshes it every `usage_ttl` seconds, and a sign-in
refreshes its proxy at once. Tokens go only to the configured GitHub hosts.

A GitHub App-backed proxy (issue 15) is not read: copilot_internal/user describes
a person's plan and quota, and an installation token is no person; its requests
are billed to the organisation the App is installed on (GitHub's
"Server-to-server authentication"), whose AI credits GitHub shows on the
organisation's billing pages. ASSUMED (GitHub documents no answer of that
endpoint to an installation token): the page says "billed to <org>" instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from copilot_proxy.auth.config import Settings
from copilot_proxy.auth.logs import log
from copilot_proxy.auth.security import redact
from copilot_proxy.auth.stores.protocol import ProxyInfo, ProxyRef, StoreError, TokenStore
from copilot_proxy.core.github import HostNotAllowed
from copilot_proxy.github.copilot import Usage, UsageError, fetch_usage

# The refresher never loops faster than this, whatever usage_ttl says (tests use 0).
MIN_REFRESH = 0.2


class UsageCache:
    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        http: httpx.AsyncClient,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.store = store
        self.http = http
        self.clock = clock
        # proxy -> (token's updated_at, read at, usage, error)
        self._seen: dict[ProxyRef, tuple[str, float, Usage | None, str]] = {}
        self._task: asyncio.Task[None] | None = None

    def get(self, info: ProxyInfo) -> tuple[Usage | None, str]:
        """Plan and quota of the proxy's current token as last read; (None, '') until then."""
        cached = self._seen.get(info.ref)
        if (
            not info.token.present
            or info.app is not None
            or cached is None
            or cached[0] != info.token.updated_at
        ):
            return None, ""
        return cached[2], cached[3]

    def forget(self, ref: ProxyRef) -> None:
        self._seen.pop(ref, None)

    def _stale(self, info: ProxyInfo, now: float) -> bool:
        cached = self._seen.get(info.ref)
        return (
            cached is None
            or cached[0] != info.token.updated_at
            or now - cached[1] >= self.settings.limits.usage_ttl
        )

    async def refresh(self, info: ProxyInfo) -> None:
        """Read the quota of one proxy's account from its (configured) GitHub."""
        now = self.clock()
        usage: Usage | None = None
        error_text = token = ""
        try:
            ep = self.settings.endpoints(info.github_host, info.github_api_url)
            token = await asyncio.to_thread(self.store.read_token, info.ref)
            if token:
                usage = await fetch_usage(self.http, ep, token)
        except HostNotAllowed as refused:
            error_text = str(refused)
        except StoreError as error:
            error_text = str(error)
        except UsageError as error:
            error_text = redact(str(error), [token])
        self._seen[info.ref] = (info.token.updated_at, now, usage, error_text)

    async def refresh_all(self) -> None:
        """One round: every signed-in proxy whose quota is older than `usage_ttl`."""
        infos = await asyncio.to_thread(self.store.list_proxies)
        now = self.clock()
        known = {i.ref for i in infos}
        for ref in [r for r in self._seen if r not in known]:
            del self._seen[ref]
        for info in infos:
            if info.token.present and info.app is None and self._stale(info, now):
                await self.refresh(info)

    async def _forever(self) -> None:
        while True:
            try:
                await self.refresh_all()
            except StoreError as error:
                log.warning("Copilot quota not refreshed: %s", error)
            except Exception:  # a bug must not end the refresher
                log.exception("Copilot quota refresh failed")
            await asyncio.sleep(max(self.settings.limits.usage_ttl, MIN_REFRESH))

    def start(self) -> None:
        """Keep the quota current in the background (the app's start-up)."""
        if self._task is None:
            self._task = asyncio.create_task(self._forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
