"""The login page of the local mode: the auth service, in a thread of this process.

It is the same FastAPI app as in Kubernetes (`copilot_proxy.auth.app.create_app`),
on the auth service's directory store pointed at the state folder, so the
token lands where the proxy reads it. The store is wrapped only to tell the
page whether the local proxy is up (in Kubernetes the operator's Ready
condition says that).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from copilot_proxy.auth.app import create_app
from copilot_proxy.auth.config import Settings
from copilot_proxy.auth.stores.directory import LOCAL_NAMESPACE, DirectoryStore, LocalProxy
from copilot_proxy.auth.stores.protocol import AppCredential, ProxyInfo, ProxyRef
from copilot_proxy.core.github import DEFAULT_HOSTS, GitHub
from copilot_proxy.core.spec import ProxySpec

START_TIMEOUT = 15.0
_HANDLER = "copilot-proxy-local"


def local_proxy(spec: ProxySpec, directory: Path) -> LocalProxy:
    """The store's entry for the manifest's proxy: its name, its GitHub host, and the
    GitHub App that provides its token if the manifest declares one."""
    app = spec.credential
    return LocalProxy(
        name=spec.name,
        directory=directory,
        namespace=LOCAL_NAMESPACE,
        github_host=spec.github.host,
        github_api_url=spec.github.api_base,
        app=AppCredential(app.issuer, app.installation_id) if app else None,
    )


class LocalStore(DirectoryStore):
    """The directory store, plus the local proxy's state for the page."""

    def __init__(self, proxy: LocalProxy) -> None:
        super().__init__([proxy])
        self.ready = ""  # "True" | "False" | "" as the operator's Ready condition
        self.status_message = ""
        # A GitHub App's credential, as the operator's CredentialReady condition says it.
        self.credential = ("", "", "")  # (status, reason, message)

    @property
    def ref(self) -> ProxyRef:
        return next(iter(self.proxies))

    def replace(self, proxy: LocalProxy) -> None:
        """Serve an edited manifest's proxy (new name or GitHub host); the token stays."""
        self.proxies = {proxy.ref: proxy}

    def set_status(self, ready: bool | None, message: str) -> None:
        self.ready = "" if ready is None else str(ready)
        self.status_message = message

    def set_credential(self, ready: bool | None, reason: str = "", message: str = "") -> None:
        """What the local run's App credential is (an App-backed manifest): minted
        (True), refused (False, reason and what to do, as the operator's CredentialReady)."""
        self.credential = ("" if ready is None else str(ready), reason, message)

    def _with_status(self, info: ProxyInfo) -> ProxyInfo:
        app = info.app
        if app is not None:
            ready, reason, message = self.credential
            app = dataclasses.replace(app, ready=ready, reason=reason, message=message)
        return dataclasses.replace(
            info, ready=self.ready, status_message=self.status_message, app=app
        )

    def list_proxies(self) -> list[ProxyInfo]:
        return [self._with_status(i) for i in super().list_proxies()]

    def get_proxy(self, ref: ProxyRef) -> ProxyInfo | None:
        info = super().get_proxy(ref)
        return self._with_status(info) if info else None


class LoginPageError(RuntimeError):
    """The login page could not start; its log says why."""


class LoginServer:
    """uvicorn in a thread on an already bound socket (so a busy port fails before start)."""

    def __init__(
        self,
        store: LocalStore,
        sock: socket.socket,
        log_file: Path,
        github_hosts: Sequence[GitHub] = DEFAULT_HOSTS,
    ) -> None:
        self.sock = sock
        settings = dataclasses.replace(
            Settings.from_env(os.environ), github_hosts=tuple(github_hosts)
        )
        config = uvicorn.Config(
            create_app(settings, store),
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="login-page", daemon=True)
        _log_to(log_file)

    def _run(self) -> None:
        # Not the main thread: uvicorn leaves the signals to the supervisor.
        self.server.run(sockets=[self.sock])

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise LoginPageError("the login page did not start")
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(10)
        self.sock.close()


def _log_to(log_file: Path) -> None:
    """The service's INFO lines go to a file; warnings and errors also to the console."""
    root = logging.getLogger()
    if any(h.get_name() == _HANDLER for h in root.handlers):
        return
    to_file = logging.FileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # Warnings (a failed sign-in, never a token) on the console, as Console.say prints.
    to_console = logging.StreamHandler(sys.stdout)
    to_console.setLevel(logging.WARNING)
    to_console.setFormatter(logging.Formatter("%(asctime)s login page: %(message)s", "%H:%M:%S"))
    for handler in (to_file, to_console):
        handler.set_name(_HANDLER)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
