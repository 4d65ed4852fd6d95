"""The service's moving parts: logins running in the background, rate limits, the quota.

A login keeps polling GitHub in a task of its own, so it completes even when
the browser tab is closed; the page and scripts only read its state. Store
calls (blocking) run in worker threads. The Copilot quota is usage.py's (read in
the background). A token goes only to a GitHub host of the configuration
(core/github.py), never to one a CopilotProxy names itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import httpx

from copilot_proxy.auth import login_flow as flow
from copilot_proxy.auth.config import Settings
from copilot_proxy.auth.login_flow import Login, Phase
from copilot_proxy.auth.logs import log
from copilot_proxy.auth.metrics import Metrics
from copilot_proxy.auth.security import RateLimiter, redact
from copilot_proxy.auth.stores import apps
from copilot_proxy.auth.stores.protocol import ProxyInfo, ProxyRef, StoreError, TokenStore
from copilot_proxy.auth.usage import UsageCache
from copilot_proxy.github.copilot import (
    CopilotDenied,
    CopilotUnavailable,
    Usage,
    check_copilot,
    fetch_login,
)
from copilot_proxy.github.device_flow import (
    DeviceCode,
    GitHubUnreachable,
    Granted,
    poll_token,
    request_device_code,
)
from copilot_proxy.github.endpoints import GitHubEndpoints

P = ParamSpec("P")
T = TypeVar("T")


class TokenSecretNotAllowed(Exception):
    """The proxy names a token Secret it may not use (core/token_secret.py): no sign-in."""


class CredentialManaged(Exception):
    """A GitHub App provides the proxy's token (stores/apps.py): nobody signs in or out."""


class RateLimited(Exception):
    def __init__(self, limit: str, retry_after: float) -> None:
        super().__init__(f"rate limited ({limit})")
        self.limit = limit
        self.retry_after = retry_after


class LoginManager:
    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        metrics: Metrics,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.store = store
        self.metrics = metrics
        self.http = http
        self.clock = clock
        self.logins: dict[str, Login] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._active: dict[ProxyRef, str] = {}
        self.quota = UsageCache(settings, store, http, clock)
        self._starts_client = RateLimiter(self.limits.starts_per_client, self.limits.starts_window)
        self._starts_global = RateLimiter(self.limits.starts_global, self.limits.starts_window)

    def endpoints(self, info: ProxyInfo) -> GitHubEndpoints:
        """The proxy's GitHub if the configuration allows it, else HostNotAllowed."""
        return self.settings.endpoints(info.github_host, info.github_api_url)

    async def call_store(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    # -- logins -------------------------------------------------------------------

    def not_app(self, info: ProxyInfo) -> None:
        """CredentialManaged when a GitHub App provides the proxy's token."""
        if info.app is not None:
            who = "the operator" if self.store.kind == "kubernetes" else "copilot-proxy run"
            proxy = f"CopilotProxy {info.ref.id}"
            raise CredentialManaged(apps.managed(proxy, info.app, who))

    def active_login(self, ref: ProxyRef) -> Login | None:
        login_id = self._active.get(ref)
        login = self.logins.get(login_id) if login_id else None
        return login if login and not login.finished else None

    def get(self, login_id: str) -> Login | None:
        self._prune()
        return self.logins.get(login_id)

    async def start(self, info: ProxyInfo, client: str) -> Login:
        """Ask GitHub for a device code and poll in the background.

        Raises CredentialManaged, HostNotAllowed, TokenSecretNotAllowed, RateLimited,
        GitHubUnreachable or DeviceFlowError (nothing started).
        """
        self.not_app(info)
        ep = self.endpoints(info)
        if info.token_refused:  # the token could not be stored: do not start what cannot end
            raise TokenSecretNotAllowed(info.token_refused)
        now = self.clock()
        for limit, limiter, key in (
            ("client", self._starts_client, client),
            ("global", self._starts_global, ""),
        ):
            wait = limiter.retry_after(key, now)
            if wait:
                self.metrics.rate_limited.labels(limit).inc()
                raise RateLimited(limit, wait)
        self._starts_client.record(client, now)
        self._starts_global.record("", now)
        code = await request_device_code(self.http, ep)
        previous = self.active_login(info.ref)
        if previous is not None:  # a new code replaces one the user may have lost
            await self.cancel(previous.id)
        login = flow.start(
            secrets.token_urlsafe(18), info.ref, code, self.clock(), self.limits.min_poll_interval
        )
        self.logins[login.id] = login
        self._active[info.ref] = login.id
        self._tasks[login.id] = asyncio.create_task(self._run(login.id, code, ep))
        self.metrics.logins_started.labels(info.ref.namespace, info.ref.name).inc()
        log.info("Login %s for %s started on %s", login.id, info.ref.id, ep.login_host)
        return login

    async def cancel(self, login_id: str) -> Login | None:
        login = self.logins.get(login_id)
        if login is None:
            return None
        task = self._tasks.pop(login_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if not login.finished:
            self._finish(flow.cancelled(login, self.clock()))
        return self.logins[login_id]

    def _set(self, login: Login) -> Login:
        # A login cancelled meanwhile stays cancelled.
        current = self.logins.get(login.id)
        if current is not None and current.finished:
            return current
        self.logins[login.id] = login
        if login.finished:
            self._finish(login)
        return login

    def _finish(self, login: Login) -> None:
        self.logins[login.id] = login
        if self._active.get(login.proxy) == login.id:
            del self._active[login.proxy]
        result = login.error or login.phase.value
        self.metrics.logins_finished.labels(login.proxy.namespace, login.proxy.name, result).inc()
        if login.phase is Phase.CONNECTED:
            log.info("Login %s: %s connected as %s", login.id, login.proxy.id, login.github_login)
        elif login.phase is Phase.FAILED:  # a warning: the local mode shows it on the console
            log.warning("GitHub sign-in for %s failed: %s", login.proxy.id, login.message)
        else:
            log.info("Login %s for %s ended: %s", login.id, login.proxy.id, result)

    async def _run(self, login_id: str, code: DeviceCode, ep: GitHubEndpoints) -> None:
        try:
            await self._poll(login_id, code, ep)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not leave the login hanging forever
            log.exception("Login %s crashed", login_id)
            login = self.logins[login_id]
            message = f"Internal error ({type(error).__name__}); try again."
            self._set(flow.fail(login, "internal", message, self.clock()))
        finally:
            self._tasks.pop(login_id, None)

    async def _poll(self, login_id: str, code: DeviceCode, ep: GitHubEndpoints) -> None:
        limits = self.limits
        while True:
            login = self.logins[login_id]
            if login.finished:
                return
            now = self.clock()
            expired = flow.timed_out(login, now)
            if expired is not None:
                self._set(expired)
                return
            await asyncio.sleep(max(min(login.next_poll_at, login.expires_at) - now, 0.0))
            if self.logins[login_id].finished:
                return
            try:
                result = await poll_token(self.http, ep, code.device_code, int(login.interval))
            except GitHubUnreachable as error:
                unanswered = flow.after_unreachable(
                    login, error.host, self.clock(), limits.max_poll_failures
                )
                self._set(unanswered)
                continue
            polled = flow.after_poll(login, result, self.clock(), limits.min_poll_interval)
            login = self._set(polled)
            if login.phase is Phase.VERIFYING and isinstance(result, Granted):
                await self._verify_and_store(login, result.token, ep)
                return

    async def _verify_and_store(self, login: Login, token: str, ep: GitHubEndpoints) -> None:
        """Store the token only once it proved to work for Copilot."""
        now = self.clock
        try:
            await check_copilot(self.http, ep, token)
        except CopilotDenied as denied:
            who = await fetch_login(self.http, ep, token)
            account = f"The GitHub account @{who}" if who else "This GitHub account"
            message = denied.message.replace("This GitHub account", account)
            self._set(flow.fail(login, denied.reason, f"{message} Nothing was stored.", now()))
            return
        except CopilotUnavailable as unavailable:
            message = f"{unavailable.message} Nothing was stored; try again."
            self._set(flow.fail(login, "copilot_unavailable", message, now()))
            return
        except GitHubUnreachable as error:
            message = (
                f"{error.host} did not answer the Copilot check. Nothing was stored; try again."
            )
            self._set(flow.fail(login, "unreachable", message, now()))
            return
        github_login = await fetch_login(self.http, ep, token)
        if self.logins[login.id].finished:  # cancelled while checking: store nothing
            return
        try:
            await self.call_store(
                self.store.write_token, login.proxy, token, github_login, datetime.now(UTC)
            )
        except StoreError as error:
            message = redact(str(error), [token])
            self._set(flow.fail(login, "store_failed", message, now()))
            return
        self.quota.forget(login.proxy)
        # The quota of the new account, at once (this login was started with a credential),
        # and before "connected": the page then shows the account with its quota.
        with contextlib.suppress(StoreError):  # stored: the background refresh reads it later
            info = await self.call_store(self.store.get_proxy, login.proxy)
            if info is not None:
                await self.quota.refresh(info)
        self._set(flow.connected(login, github_login, now()))

    def _prune(self) -> None:
        cutoff = self.clock() - self.limits.finished_login_ttl
        for login_id in [
            i for i, login in self.logins.items() if login.finished and login.finished_at < cutoff
        ]:
            del self.logins[login_id]

    async def sign_out(self, ref: ProxyRef) -> None:
        active = self.active_login(ref)
        if active is not None:
            await self.cancel(active.id)
        await self.call_store(self.store.clear_token, ref)
        self.quota.forget(ref)
        log.info("Signed out %s: token removed", ref.id)

    # -- usage ----------------------------------------------------------------------

    def usage(self, info: ProxyInfo) -> tuple[Usage | None, str]:
        """Plan and quota as last read (usage.py); never calls GitHub."""
        return self.quota.get(info)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        await self.quota.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
