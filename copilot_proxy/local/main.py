"""`copilot-proxy run -f cr.yaml`: the login page and the proxy on one machine, no cluster.

- The manifest is rendered by the operator's renderer; the proxy is the real
  `litellm` process with the Deployment's command, environment and token
  layout (proxy_process.py).
- The login page is the auth service on its directory store, in a thread of
  this process (login_page.py); the token and the master key live in the state
  folder (state.py).
- Until a token exists the proxy is not started. A new token or an edited
  manifest restarts it, by the operator's rule (rule.py, supervisor.py).
- A manifest with spec.credential.githubApp needs --github-app-key FILE: the App's
  installation tokens are minted and renewed under the running proxy, nobody signs
  in (app_tokens.py, app_supervisor.py).
- Ctrl-C (SIGINT), SIGTERM or a closed terminal stop both; a second Ctrl-C
  kills the proxy without waiting.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from copilot_proxy.core.github import hosts_from
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.local import ports
from copilot_proxy.local.console import Console
from copilot_proxy.local.manifest_file import load_manifest
from copilot_proxy.local.rule import chain_text
from copilot_proxy.local.state import (
    StateDir,
    display_host,
    ensure_master_key,
    first_run_text,
    later_run_text,
    prepare,
)

if TYPE_CHECKING:  # imported late at run time: a bad manifest or busy port answers at once
    from copilot_proxy.local.app_supervisor import AppSupervisor
    from copilot_proxy.local.login_page import LoginServer

__all__ = ["run_local"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _CannotRun(Exception):
    """The local mode cannot start; the message says why (exit code 1)."""


@dataclass(frozen=True)
class _Prepared:
    """What is claimed before anything starts: the login page's socket, the state folder."""

    auth_sock: socket.socket
    proxy_sock: socket.socket  # the placeholder's until LiteLLM starts
    state: StateDir
    master_key: str
    new_key: bool


def run_local(path: Path, args: argparse.Namespace) -> int:
    """Run until a stop signal; the exit code (0 after a clean stop, 1 when it cannot run).

    Raises copilot_proxy.core.manifest.ManifestError for a bad manifest (the CLI exits 2).
    """
    try:
        return _run(path, args)
    except KeyboardInterrupt:  # Ctrl-C before the stop signals are ours: nothing runs yet
        print("\ncopilot-proxy: interrupted", file=sys.stderr)
        return 130


def _run(path: Path, args: argparse.Namespace) -> int:
    hosts = hosts_from(getattr(args, "github_host", None) or [], os.environ)
    spec = load_manifest(path, hosts)
    try:
        app_key = _app_key(spec, getattr(args, "github_app_key", None))
    except _CannotRun as error:
        return _fail(str(error))
    host, proxy_port, auth_port = str(args.host), int(args.proxy_port), int(args.auth_port)
    try:
        ready = _prepare(host, proxy_port, auth_port, Path(args.state_dir))
    except _CannotRun as error:
        return _fail(str(error))

    # Imported late: a bad manifest or a busy port answers at once.
    from copilot_proxy.local.app_supervisor import AppSupervisor
    from copilot_proxy.local.login_page import LocalStore, LoginServer, local_proxy
    from copilot_proxy.local.mcp_processes import McpProcesses
    from copilot_proxy.local.placeholder import Placeholder
    from copilot_proxy.local.ports import Addresses

    console = Console()
    shown = display_host(host)
    proxy_url = f"http://{shown}:{proxy_port}"
    login_url = f"http://{shown}:{auth_port}/github"
    state = ready.state
    # The MCP servers run here, on loopback ports: the proxy is rendered to reach them there.
    mcp = McpProcesses(state.root / "mcp", volumes=dict(getattr(args, "mcp_volume", None) or []))
    spec = mcp.localize(spec)
    store = LocalStore(local_proxy(spec, state.root))
    login = LoginServer(store, ready.auth_sock, state.login_log, github_hosts=hosts)
    _greet(console, path, spec, ready, proxy_url, login_url)
    supervisor = AppSupervisor(
        app_key=app_key,
        mcp=mcp,
        manifest=path,
        spec=spec,
        load=lambda manifest: mcp.localize(load_manifest(manifest, hosts)),
        state=state,
        store=store,
        master_key=ready.master_key,
        addresses=Addresses(host, proxy_port, auth_port),
        console=console,
        shown_proxy_url=proxy_url,
        login_url=login_url,
        placeholder=Placeholder(host, proxy_port, ready.proxy_sock),
    )
    return _serve(supervisor, login, console, state)


def _app_key(spec: ProxySpec, given: str | None) -> Path | None:
    """The --github-app-key file, checked now, when the manifest declares a GitHub App."""
    from copilot_proxy.local.app_tokens import KeyFileError, check_key

    app = spec.credential
    if app is None:
        if given:
            raise _CannotRun(
                "--github-app-key is for a manifest that declares spec.credential.githubApp;"
                " this one signs in through the login page"
            )
        return None
    if not given:
        raise _CannotRun(
            f"the manifest declares a GitHub App (spec.credential.githubApp, {app.identity}):"
            " give its private key with --github-app-key FILE (the PEM file GitHub made;"
            " privateKeySecretRef is the operator's, the local mode does not read Secrets)"
        )
    try:
        check_key(Path(given), app)
    except KeyFileError as error:
        raise _CannotRun(str(error)) from None
    return Path(given)


def _prepare(host: str, proxy_port: int, auth_port: int, state_root: Path) -> _Prepared:
    """Claim the login page's port and the proxy's (the placeholder answers there until
    LiteLLM takes it), ready the state folder."""
    if proxy_port == auth_port:
        raise _CannotRun(f"--proxy-port and --auth-port are both {proxy_port}; give them two ports")
    taken = {proxy_port, auth_port}
    try:
        auth_sock = ports.claim(host, auth_port, "the login page", "--auth-port", taken)
    except ports.PortError as error:
        raise _CannotRun(str(error)) from None
    try:
        proxy_sock = ports.claim(host, proxy_port, "the proxy", "--proxy-port", taken)
    except ports.PortError as error:
        auth_sock.close()
        raise _CannotRun(str(error)) from None
    try:
        state = prepare(state_root)
        master_key, new_key = ensure_master_key(state)
        _rotate(state.proxy_log)
    except BaseException as error:
        auth_sock.close()
        proxy_sock.close()
        if isinstance(error, OSError):
            reason = error.strerror or error
            raise _CannotRun(f"cannot use the state folder {state_root}: {reason}") from None
        raise
    return _Prepared(auth_sock, proxy_sock, state, master_key, new_key)


def _greet(
    console: Console,
    path: Path,
    spec: ProxySpec,
    ready: _Prepared,
    proxy_url: str,
    login_url: str,
) -> None:
    state = ready.state
    console.print(f"copilot-proxy: CopilotProxy {spec.name!r} from {path}")
    console.print(f"  models:  {chain_text(spec)} (tried in this order)")
    console.print(f"  state:   {state.root} (GitHub token, master key, logs)")
    console.print(f"  proxy:   {proxy_url}")
    console.print(f"  login:   {login_url}")
    if spec.credential is not None:
        console.print(f"  GitHub:  {spec.credential.identity} (tokens minted here, no sign-in)")
    console.print()
    if ready.new_key:
        console.print(first_run_text(spec, ready.master_key, proxy_url, state.master_key_file))
    else:
        console.print(later_run_text(state.master_key_file))
    console.print("Ctrl-C stops the proxy and the login page.")
    console.print()


def _serve(supervisor: AppSupervisor, login: LoginServer, console: Console, state: StateDir) -> int:
    """The loop: start the login page, tick the supervisor until a stop signal."""
    from copilot_proxy.local.login_page import LoginPageError
    from copilot_proxy.local.supervisor import TICK

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            supervisor.kill_now()  # second Ctrl-C: no more waiting
        stop.set()

    code = 0
    previous = {sig: signal.signal(sig, on_signal) for sig in _STOP_SIGNALS}
    try:
        login.start()
        supervisor.tick()
        while not stop.wait(TICK):
            if not login.running:
                console.say(f"The login page stopped unexpectedly; see {state.login_log}")
                code = 1
                break
            supervisor.tick()
        console.say("Stopping…")
    except LoginPageError as error:
        console.say(f"{error}; see {state.login_log}")
        code = 1
    finally:
        supervisor.stop_renewing()
        supervisor.stop_proxy()
        supervisor.placeholder.release()
        login.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.say("Stopped.")
    return code


def _fail(message: str) -> int:
    print(f"copilot-proxy: {message}", file=sys.stderr)
    return 1


def _rotate(log: Path) -> None:
    """Keep the previous run's proxy log as proxy.log.1."""
    if log.exists():
        log.replace(log.with_name(log.name + ".1"))
