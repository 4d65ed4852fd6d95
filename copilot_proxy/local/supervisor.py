"""Keeps the local proxy in step with the manifest and the GitHub token.

The rule (when to start, restart or stop) is the operator's, as pure functions
in rule.py; `Supervisor` watches the files, applies the decision and tells the
person at the console what happens.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from copilot_proxy.auth.stores.directory import write_private
from copilot_proxy.core import rollout
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.local import ports
from copilot_proxy.local import proxy_process as pp
from copilot_proxy.local.catalogue import LocalCatalogue
from copilot_proxy.local.console import Console
from copilot_proxy.local.idle import Idle, Reason, token_news, why_idle
from copilot_proxy.local.login_page import LocalStore, local_proxy
from copilot_proxy.local.placeholder import Placeholder
from copilot_proxy.local.ports import Addresses
from copilot_proxy.local.proxy_log import RequestLines, error_line, plain
from copilot_proxy.local.rule import (
    Action,
    Template,
    chain_text,
    decide,
    effective,
    process_hash,
    reasons,
    wanted_template,
)
from copilot_proxy.local.state import StateDir

TICK = 0.5  # seconds between looks at the manifest and the token
START_TIMEOUT = pp.START_TIMEOUT
PORT_RETRY = 5.0
MAX_BACKOFF = 60.0

ManifestLoader = Callable[[Path], ProxySpec]


class Supervisor:
    """Observe (manifest, token, process) -> decide -> act, every TICK seconds."""

    def __init__(
        self,
        *,
        manifest: Path,
        spec: ProxySpec,
        load: ManifestLoader,
        state: StateDir,
        store: LocalStore,
        master_key: str,
        addresses: Addresses,
        console: Console,
        shown_proxy_url: str,
        login_url: str,
        placeholder: Placeholder,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.manifest = manifest
        self.load = load
        self.state = state
        self.store = store
        self.master_key = master_key
        self.addr = addresses
        self.console = console
        self.shown_proxy_url = shown_proxy_url
        self.login_url = login_url
        self.placeholder = placeholder
        self.environ = dict(os.environ if environ is None else environ)
        self.models, self.spec = LocalCatalogue(console, self.environ), spec
        self.manifest_text = _read(manifest)
        self.proxy: pp.ProxyProcess | None = None
        self.running: Template | None = None
        self.ready = False
        self.started_at = 0.0
        self.retry_at = 0.0
        self.failures = 0
        self.failed: Template | None = None  # the template that crashed, for the back-off
        self.last_error = ""  # the log line that says why it crashed, for the page and clients
        self.token_seen: str | None = None
        self.replicas_note = False
        self.port_wait = False
        self.requests = RequestLines(state.proxy_log)

    # -- what the proxy process would be ---------------------------------------------

    def github_urls(self, spec: ProxySpec) -> dict[str, str]:
        """GITHUB_COPILOT_*_URL set in the environment win over spec.github (as for the
        login page, whose GITHUB_* variables win too): both talk to the same GitHub."""
        return {n: self.environ[n] for n in pp.github_url_names(spec) if self.environ.get(n)}

    def launch(self, spec: ProxySpec) -> tuple[list[str], dict[str, str]]:
        argv = pp.command(
            spec, config_path=self.state.config_path, host=self.addr.host, port=self.addr.proxy_port
        )
        env = pp.environment(
            spec,
            token_file=self.state.token_file,
            token_dir=self.state.token_dir,
            master_key=self.master_key,
            github_urls=self.github_urls(spec),
        )
        return argv, env

    def wanted(self, token: str) -> dict[str, str] | None:
        argv, env = self.launch(self.spec)
        text = self.models.config_text(self.spec)
        return wanted_template(text, token, process_hash(argv, env), self.spec.replicas)

    # -- the loop ----------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.reload_manifest()
        token = self.store.read_token(self.store.ref)
        self.announce_token(token)
        self.models.look(self.spec, token)
        self.watch_process(now)
        wanted = self.wanted(token)
        action = decide(self.running, wanted)
        if action is Action.STOP:
            self.stop_proxy()
            self.console.say("Proxy stopped.")
        elif action is Action.RESTART:
            assert self.running is not None and wanted is not None
            why = " and ".join(reasons(self.running, wanted))
            self.console.say(f"Restarting the proxy ({why}); chain: {chain_text(self.spec)}")
            self.stop_proxy()
            self.start_proxy(wanted, now)
        elif (
            action is Action.START
            and wanted is not None
            # After a crash or a busy port, the same template waits for its back-off.
            and (wanted != self.failed or now >= self.retry_at)
        ):
            self.start_proxy(wanted, now)
        self.note_replicas()
        self.forward_requests()
        self.show_status(bool(token), now)

    def show_status(self, signed_in: bool, now: float) -> None:
        """Tell the login page, and clients on the proxy's port, what the proxy is doing."""
        if self.proxy is not None:
            if self.ready:
                self.store.set_status(True, f"Serving at {self.shown_proxy_url}.")
            elif self.last_error:
                self.store.set_status(False, f"Starting again after a crash: {self.last_error}")
            else:
                self.store.set_status(False, "The proxy is starting.")
            return
        reason = self.idle_reason(signed_in, now)
        self.store.set_status(False, reason.message)
        self.placeholder.say(reason)
        if self.placeholder.hold():  # else another program has the port (said once)
            self.port_wait = False

    def idle_reason(self, signed_in: bool, now: float) -> Reason:
        idle = Idle(
            signed_in=signed_in,
            replicas=self.spec.replicas,
            manifest=self.manifest,
            port=self.addr.proxy_port,
            port_taken=self.port_wait,
            last_error=self.last_error if self.failed is not None else "",
            retry_in=max(math.ceil(self.retry_at - now), 0),
            log=self.state.proxy_log,
            key_file=self.state.master_key_file,
        )
        return why_idle(idle, self.login_url)

    def reload_manifest(self) -> None:
        text = _read(self.manifest)
        if text == self.manifest_text:
            return
        self.manifest_text = text
        try:
            spec = self.load(self.manifest)
        except Exception as error:  # ManifestError: the message names file and field
            keeping = "the proxy keeps its last good settings" if self.proxy else "nothing changed"
            self.console.say(f"Manifest not applied ({keeping}):\n{error}")
            return
        if (spec.name, spec.github) != (self.spec.name, self.spec.github):
            self.store.replace(local_proxy(spec, self.state.root))
        same = effective(spec) == effective(self.spec)
        self.spec = spec
        if same:
            self.console.say("Manifest re-read: nothing changes for the proxy.")
        elif self.proxy is None:  # else the restart says it
            self.console.say(f"Manifest re-read; chain: {chain_text(spec)}")

    def announce_token(self, token: str) -> None:
        fingerprint = rollout.token_hash(token)
        if fingerprint == self.token_seen:
            return
        before, self.token_seen = self.token_seen, fingerprint
        info = self.store.get_proxy(self.store.ref)
        login = info.token.login if info else ""
        self.console.say(token_news(before, fingerprint, login, self.login_url))

    def note_replicas(self) -> None:
        if self.spec.replicas == 0 and not self.replicas_note:
            self.console.say("spec.replicas is 0: the proxy stays stopped.")
        self.replicas_note = self.spec.replicas == 0

    # -- the process ---------------------------------------------------------------------

    def start_proxy(self, wanted: Template, now: float) -> None:
        host, port = self.addr.host, self.addr.proxy_port
        self.placeholder.release()  # LiteLLM binds the port itself
        if not ports.is_free(host, port):
            if not self.port_wait:  # said once, not at every retry
                self.port_wait = True
                self.console.say(
                    f"Port {port} is taken by another program: the proxy waits for it.\n"
                    "Stop that program, or restart with --proxy-port <another port>."
                )
            self.failed, self.retry_at = dict(wanted), now + PORT_RETRY
            return
        self.port_wait = False
        argv, env = self.launch(self.spec)
        write_private(self.state.config_path, self.models.config_text(self.spec))
        pp.fresh_token_dir(self.state.token_dir)
        self.proxy = pp.ProxyProcess(
            argv=argv,
            env={**self.environ, **env, "PYTHONUNBUFFERED": "1"},
            url=self.addr.proxy_url,
            log_path=self.state.proxy_log,
            cwd=self.state.root,
            probe_path=pp.liveness_path(self.spec),
        )
        self.proxy.start()
        self.running, self.ready, self.started_at = dict(wanted), False, now
        self.console.say(f"Starting the proxy on {self.shown_proxy_url} (about 10 s)…")

    def watch_process(self, now: float) -> None:
        proxy = self.proxy
        if proxy is None:
            return
        code = proxy.exited()
        if code is not None:
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            self.crashed(f"The proxy stopped by itself ({how}).", now)
        elif not self.ready:
            if proxy.is_live():
                self.ready, self.failures, self.failed, self.last_error = True, 0, None, ""
                self.console.say(
                    f"Proxy ready: {self.shown_proxy_url} (chain: {chain_text(self.spec)})"
                )
            elif now - self.started_at > START_TIMEOUT:
                self.crashed(f"The proxy did not come up within {START_TIMEOUT:g} s.", now)

    def crashed(self, what: str, now: float) -> None:
        assert self.proxy is not None
        tail = plain(self.proxy.log_tail(8))
        failed = self.running  # stop_proxy() forgets it
        self.stop_proxy(drain=False)
        self.failures += 1
        wait = min(2.0**self.failures, MAX_BACKOFF)
        self.failed, self.retry_at = failed, now + wait
        self.last_error = error_line(tail) or what
        lines = [what, f"Last lines of {self.state.proxy_log}:"]
        lines += [f"  {line}" for line in tail.splitlines()] or ["  (empty)"]
        lines.append(f"Trying again in {wait:g} s (at once after a change of the manifest).")
        self.console.say("\n".join(lines))

    def stop_proxy(self, drain: bool = True) -> None:
        if self.proxy is not None:  # drain: after what it serves, as a pod (proxy_process)
            self.forward_requests()
            say = self.console.say if drain else None
            self.proxy.stop(None if drain else pp.STOP_GRACE, say)
        self.proxy, self.running, self.ready = None, None, False

    def kill_now(self) -> None:
        """From a second Ctrl-C: no more waiting for the proxy."""
        if self.proxy is not None:
            self.proxy.kill()

    def forward_requests(self) -> None:
        """Show the proxy's one-line request log (which model served) on the console."""
        for line in self.requests.read():
            self.console.say(line)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
