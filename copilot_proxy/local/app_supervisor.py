"""The local supervisor of a proxy whose credential is a GitHub App (`run --github-app-key`).

Before each look at the token, the App's installation token is minted or renewed
(app_tokens.py). The rule keeps the proxy running across rotations: its template
carries the App's identity instead of the token's hash (rule.wanted_template), as the
operator's pod template does. Nobody signs in: until a token is minted, clients on the
proxy's port get what GitHub refused and what to do (503, the placeholder).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from copilot_proxy.core.app_failures import Where
from copilot_proxy.core.credential import GitHubApp, identity_hash
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.github.app_tokens import InstallationToken
from copilot_proxy.github.endpoints import GitHubOverrides, endpoints_for
from copilot_proxy.litellm.internals.authenticator import REFUSED_FILE
from copilot_proxy.local.app_tokens import AppTokens
from copilot_proxy.local.idle import Reason
from copilot_proxy.local.mcp_supervisor import McpSupervisor
from copilot_proxy.local.rule import process_hash, wanted_template

CREDENTIAL_CODE = "credential_refused"
APP_TICK = 0.25  # seconds between looks at the App's token: its own thread, on time even
# while a supervisor tick waits on the proxy or the catalogue


class AppSupervisor(McpSupervisor):
    def __init__(self, *, app_key: Path | None, **supervisor: Any) -> None:
        super().__init__(**supervisor)
        self.app_key = app_key
        self.app: AppTokens | None = None
        self.renewing: threading.Thread | None = None
        self.stopped = threading.Event()  # set by stop_renewing: the renew thread ends
        if app_key is not None and self.spec.credential is not None:
            self.app = self.app_tokens(self.spec.credential, self.spec)

    def app_tokens(self, app: GitHubApp, spec: ProxySpec) -> AppTokens:
        assert self.app_key is not None
        ep = endpoints_for(spec.github, GitHubOverrides.from_env(self.environ))
        return AppTokens(
            app=app,
            key_file=self.app_key,
            endpoints=ep,
            write=self.write_token,
            refused_file=self.state.token_dir / REFUSED_FILE,
            say=self.console.say,
            where=Where(app=app, namespace=spec.namespace, proxy=spec.name, web_base=ep.web_base),
            report=self.store.set_credential,  # the page's CredentialReady
        )

    def write_token(self, token: InstallationToken) -> None:
        """Atomically (temp file + rename), where the proxy reads it, with the organisation
        and the times for the login page."""
        ref = self.store.ref
        info = self.store.get_proxy(ref)
        if info is None or info.app is None:  # the edited manifest dropped the App
            self.store.write_token(ref, token.token, token.account, token.minted_at)
            return
        self.store.write_app_token(
            ref, token.token, token.account, token.minted_at, token.expires_at, token.renew_at
        )

    def tick(self, now: float | None = None) -> None:
        if self.app is not None and self.renewing is None:
            self.app.tick()  # the first token before the first look at it
            self.renewing = threading.Thread(target=self.renew, name="app-tokens", daemon=True)
            self.renewing.start()
        super().tick(now)

    def renew(self) -> None:
        """Mint and renew on time, whatever the supervisor's tick is doing."""
        while not self.stopped.is_set():
            app = self.app
            if app is not None:
                app.tick()
            self.stopped.wait(APP_TICK)

    def stop_renewing(self) -> None:
        """End the renew thread at shutdown; a mint in flight is not waited for (it is a
        daemon thread: it dies with the process)."""
        self.stopped.set()
        if self.renewing is not None:
            self.renewing.join(timeout=2 * APP_TICK)

    def reload_manifest(self) -> None:
        before = self.spec.credential
        super().reload_manifest()
        after = self.spec.credential
        if after == before or self.app is None:
            return
        if after is None:
            self.console.say(
                "The manifest no longer declares a GitHub App: the proxy keeps the App's"
                " tokens; restart copilot-proxy run without --github-app-key to sign in instead."
            )
            return
        self.store.set_credential(None)  # nothing known of the new App yet
        self.app = self.app_tokens(after, self.spec)  # another App: the proxy restarts

    def wanted(self, token: str) -> dict[str, str] | None:
        if self.app is None:
            return super().wanted(token)
        argv, env = self.launch(self.spec)
        text = self.models.config_text(self.spec)
        identity = identity_hash(self.app.app)
        return wanted_template(text, token, process_hash(argv, env), self.spec.replicas, identity)

    def announce_token(self, token: str) -> None:
        if self.app is None:  # an App's tokens are announced as they are minted
            super().announce_token(token)

    def idle_reason(self, signed_in: bool, now: float) -> Reason:
        if self.app is None or signed_in:
            return super().idle_reason(signed_in, now)
        failure = self.app.failure
        if failure is None:
            return Reason("starting", f"Minting a token for {self.app.describe}.", retry=True)
        return Reason(
            CREDENTIAL_CODE,
            f"GitHub App {self.app.app.issuer} ({failure.reason}): {failure.message}",
            retry=failure.transient,
        )
