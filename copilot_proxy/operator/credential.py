"""The reconcile's GitHub App step: mint the installation token, renew it, write it into
the proxy's token Secret, and say how it stands.

Each reconcile of an App-backed proxy (spec.credential.githubApp):
- the key Secret must be the proxy's to read (core/credential.key_refusal: marked with
  `copilot-proxy.dev/app-key-for`, Opaque, controlled by no other object); its metadata
  is read first, its data only when a token is minted;
- a token is minted when the Secret holds none, holds one for another App or
  installation, its renewal time (half life) has come, or the Copilot key exchange
  refused it; the token is checked with a key exchange every CHECK seconds;
- a failure is remembered (per proxy, for what was tried): the same attempt is not
  repeated before RETRY seconds (GitHub unreachable: 5 s), unless the
  spec or the key Secret changed.
The decisions are core/renewal.py's, core/credential.py's and core/app_failures.py's;
the HTTP calls are apps.py's; the token Secret's contents are app_secret.py's. The key
and the token never reach a log, an event or the status.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from copilot_proxy.core import app_failures, credential, renewal, rollout, status, token_secret
from copilot_proxy.core.app_failures import AppFailure, Where
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.core.timestamps import rfc3339
from copilot_proxy.github.app_tokens import InstallationToken
from copilot_proxy.kube import Kube, object_path
from copilot_proxy.operator import app_secret
from copilot_proxy.operator.app_secret import Held, held_token, write
from copilot_proxy.operator.apps import AppClient
from copilot_proxy.operator.ownership import TokenState

log = logging.getLogger(__name__)

CHECK_ENV, RETRY_ENV = "COPILOT_PROXY_APP_CHECK_SECONDS", "COPILOT_PROXY_APP_RETRY_SECONDS"
Obj = dict[str, Any]
Emit = Callable[[str, str, str], None]  # (type, reason, message) about the proxy


@dataclass(frozen=True)
class AppCredential:
    """What the reconcile needs of an App proxy's credential after this step."""

    token: token_secret.StoredToken
    entry: dict[str, Any]  # status.credential
    failure: AppFailure | None  # None: CredentialReady True
    message: str  # CredentialReady's message when True
    identity: str  # the pod template's copilot-proxy.dev/credential
    wake_in: float | None = None  # run the reconcile again in this many seconds


@dataclass
class _Memory:
    """Per proxy: the last failed mint, and the last key-exchange check of a token."""

    failed: tuple[str, float, AppFailure] | None = None
    # (token fingerprint, when, the exchange's refusal or None)
    checked: tuple[str, float, AppFailure | None] = ("", 0.0, None)


class CredentialStep:
    def __init__(self, client: AppClient, check: float, retry: float) -> None:
        self.client, self.check, self.retry = client, check, retry
        self._memory: dict[tuple[str, str], _Memory] = {}
        self._guard = threading.Lock()

    def _mem(self, spec: ProxySpec) -> _Memory:
        with self._guard:
            return self._memory.setdefault((spec.namespace, spec.name), _Memory())

    def forget(self, namespace: str, name: str) -> None:
        with self._guard:
            self._memory.pop((namespace, name), None)

    def run(
        self, kube: Kube, spec: ProxySpec, app: GitHubApp, uid: str, tok: TokenState, emit: Emit
    ) -> AppCredential:
        where = Where(app, spec.namespace, spec.name, tok.stored.login, spec.github.web_base)
        held = held_token(tok)
        if tok.refused:  # nowhere to write: TokenReady says how to mark the Secret
            failure = AppFailure(status.TOKEN_SECRET_NOT_ALLOWED, tok.refused)
            return self._result(app, held, failure, None)
        key_meta = kube.get_metadata(_key_path(spec, app))
        if key_meta is None:
            return self._result(app, held, app_failures.key_secret_missing(where), self.retry)
        refused = credential.key_refusal(key_meta, spec.name, uid)
        if refused:  # never read, never sent: only its metadata was
            failure = app_failures.key_secret_not_allowed(refused)
            return self._result(app, held, failure, self.retry)
        mem = self._mem(spec)
        now = datetime.now(UTC)
        if not renewal.mint_due(
            held.token.present, held.identity, app.identity, now, held.renew_at
        ):
            refusal, asked = self._checked(spec, held, where, mem)
            next_step = renewal.after_check(refusal, asked)
            if refusal is None or next_step == "keep":
                return self._ok(app, held, now)
            if next_step == "report":
                return self._result(app, held, refusal, self._next_check(mem))
            # Refused (revoked, expired early, or the org's policy): a new token, and
            # GitHub's answer to the mint says which.
            log.info("%s/%s: the installation token was refused; minting anew", *_who(spec))
        attempt = f"{app}/{key_meta['metadata'].get('resourceVersion', '')}"
        if mem.failed and mem.failed[0] == attempt:  # the same attempt failed just now
            _, at, failure = mem.failed
            wait = renewal.retry_in(failure, time.monotonic() - at, self.retry)
            if wait > 0:
                return self._result(app, held, failure, wait)
        return self._renew(kube, spec, app, uid, tok, emit, attempt)

    def _renew(
        self,
        kube: Kube,
        spec: ProxySpec,
        app: GitHubApp,
        uid: str,
        tok: TokenState,
        emit: Emit,
        attempt: str,
    ) -> AppCredential:
        """Mint, write the token Secret, tell, and check the new token at the key exchange."""
        mem, held = self._mem(spec), held_token(tok)
        where = Where(app, spec.namespace, spec.name, tok.stored.login, spec.github.web_base)
        minted = self._mint(kube, spec, app, uid, where)
        if isinstance(minted, AppFailure):
            mem.failed = (attempt, time.monotonic(), minted)
            return self._result(app, held, minted, self._retry(minted))
        mem.failed = None
        fresh = write(kube, spec, app, minted)
        emit(
            "Normal",
            "TokenRenewed",
            f"minted an installation token for {minted.account or 'the installation'}"
            f" (GitHub App {app.issuer}, installation {app.installation_id}); it expires at"
            f" {rfc3339(minted.expires_at)}, renewal at {rfc3339(minted.renew_at)}",
        )
        where = Where(app, spec.namespace, spec.name, minted.account, spec.github.web_base)
        refusal, _ = self._checked(spec, fresh, where, mem, force=True)
        if refusal is not None:  # minted, yet Copilot refuses it: the org's policy
            return self._result(app, fresh, refusal, self.check)
        return self._ok(app, fresh, datetime.now(UTC))

    def _retry(self, failure: AppFailure) -> float:
        return renewal.retry_in(failure, 0.0, self.retry)

    def _mint(
        self, kube: Kube, spec: ProxySpec, app: GitHubApp, uid: str, where: Where
    ) -> InstallationToken | AppFailure:
        secret = kube.get(_key_path(spec, app))  # read now, for this mint only
        if secret is None:
            return app_failures.key_secret_missing(where)
        refused = credential.key_refusal(secret, spec.name, uid)
        if refused:  # the full object says more than its metadata (its type)
            return app_failures.key_secret_not_allowed(refused)
        pem = token_secret.data_value(secret, app.key_name)
        if not pem:
            return app_failures.key_secret_missing(where, f"has no {app.key_name}")
        return self.client.mint(spec, app, pem, where)

    def _checked(
        self, spec: ProxySpec, held: Held, where: Where, mem: _Memory, force: bool = False
    ) -> tuple[AppFailure | None, bool]:
        """The key exchange's refusal of the held token (asked at most every CHECK seconds),
        and whether it was asked just now."""
        fingerprint = rollout.token_hash(held.token.value)
        last, at, said = mem.checked
        if not force and last == fingerprint and time.monotonic() - at < self.check:
            return said, False
        failure = self.client.check(spec, held.token.value, where)
        if failure is not None and failure.reason == app_failures.GITHUB_UNREACHABLE:
            failure = None  # GitHub could not say: keep the token, ask at the next check
        mem.checked = (fingerprint, time.monotonic(), failure)
        return failure, True

    def _next_check(self, mem: _Memory) -> float:
        return max(0.0, self.check - (time.monotonic() - mem.checked[1]))

    def _ok(self, app: GitHubApp, held: Held, now: datetime) -> AppCredential:
        renew = held.renew_at
        wake = credential.wait_seconds(now, renew)
        wake = min(wake, self.check) if wake > 0 else self.check
        entry = credential.status_credential(app, held.token.login, held.expires_at, renew)
        message = (
            f"installation token for {held.token.login or 'the installation'} expires at"
            f" {entry.get('expiresAt', '?')}; renewal at {entry.get('renewAt', '?')}"
        )
        return AppCredential(held.token, entry, None, message, credential.identity_hash(app), wake)

    def _result(
        self, app: GitHubApp, held: Held, failure: AppFailure, wake: float | None
    ) -> AppCredential:
        entry = credential.status_credential(app, held.token.login, held.expires_at, held.renew_at)
        ident = credential.identity_hash(app)
        return AppCredential(held.token, entry, failure, failure.message, ident, wake)


def _key_path(spec: ProxySpec, app: GitHubApp) -> str:
    return object_path("v1", "Secret", spec.namespace, app.key_secret)


def _who(spec: ProxySpec) -> tuple[str, str]:
    return spec.namespace, spec.name


def from_environment(client: AppClient, environ: Mapping[str, str] | None = None) -> CredentialStep:
    env = os.environ if environ is None else environ
    return CredentialStep(
        client,
        check=float(env.get(CHECK_ENV) or credential.CHECK_SECONDS),
        retry=float(env.get(RETRY_ENV) or 30.0),
    )


@dataclass(frozen=True)
class Step:
    """The credential as the reconcile uses it: the token to serve with, the pod identity,
    the Observation's credential fields, and when to run again."""

    app: bool
    token: token_secret.StoredToken
    identity: str = ""  # '' for the device flow: the token's hash rolls the pods
    wake_in: float | None = None
    observed: dict[str, Any] = field(default_factory=dict)


def step(
    run: CredentialStep | None,
    kube: Kube,
    body: Obj,
    spec: ProxySpec,
    tok: TokenState,
    emit: Callable[[Obj, str, str, str], None],
) -> Step:
    app = spec.credential
    if app is None:
        stored = app_secret.drop_app_token(kube, spec, tok)
        login = stored.login if stored.present else ""
        return Step(
            False, stored, observed={"credential": credential.status_credential(None, login)}
        )
    if run is None:  # nothing mints: say so, and keep what the Secret holds
        entry = credential.status_credential(app)
        return Step(True, tok.stored, credential.identity_hash(app), observed={"credential": entry})
    uid = body["metadata"].get("uid", "")
    said = run.run(kube, spec, app, uid, tok, lambda kind, why, text: emit(body, kind, why, text))
    observed = {
        "credential": said.entry,
        "credential_reason": said.failure.reason if said.failure else app_failures.MINTED,
        "credential_message": said.message,
    }
    return Step(True, said.token, said.identity, said.wake_in, observed)
