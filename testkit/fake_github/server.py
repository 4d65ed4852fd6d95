"""The fake GitHub's server: one aiohttp app on 127.0.0.1 in a thread of its own, with every
route of the OAuth device flow, GitHub's API and Copilot's API.
"""

from __future__ import annotations

import asyncio
import functools
import threading

from aiohttp import web

from testkit.fake_github import app_api, chat, github_api, messages, oauth, responses
from testkit.fake_github.state import GitHubState

ROUTES = [
    *oauth.ROUTES,
    *github_api.ROUTES,
    *app_api.ROUTES,
    *chat.ROUTES,
    *messages.ROUTES,
    *responses.ROUTES,
]


class FakeGitHub(GitHubState):
    """The fake server; a context manager, or call start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def start(self) -> FakeGitHub:
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as e:  # surfaced to start()'s caller
                errors.append(e)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-github", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise RuntimeError("fake GitHub did not start") from errors[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        add = {
            "GET": app.router.add_get,  # serves HEAD too
            "POST": app.router.add_post,
            "DELETE": app.router.add_delete,
        }
        for method, path, handler in ROUTES:
            add[method](path, functools.partial(handler, self))
        # access_log=None: logging every request would cost more than the answer.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def env(self) -> dict[str, str]:
        """Environment that points LiteLLM and the auth service at this fake."""
        return {
            "GITHUB_COPILOT_DEVICE_CODE_URL": f"{self.url}/login/device/code",
            "GITHUB_COPILOT_ACCESS_TOKEN_URL": f"{self.url}/login/oauth/access_token",
            "GITHUB_COPILOT_API_KEY_URL": f"{self.url}/copilot_internal/v2/token",
            "GITHUB_COPILOT_API_BASE": self.api_url,
            "GITHUB_DEVICE_CODE_URL": f"{self.url}/login/device/code",
            "GITHUB_ACCESS_TOKEN_URL": f"{self.url}/login/oauth/access_token",
            "GITHUB_COPILOT_USER_URL": f"{self.url}/copilot_internal/user",
        }
