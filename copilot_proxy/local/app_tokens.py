"""A GitHub App's installation tokens for the local proxy (`run --github-app-key FILE`).

The manifest's `spec.credential.githubApp` names the App and the installation; the
private key comes from the file (`privateKeySecretRef` is the operator's: ignored here).
`AppTokens.tick` mints an installation token (github/app_tokens.py), writes it into the
state folder's token file with an atomic rename (the proxy reads it at its next Copilot
key exchange, as a pod reads kubelet's swapped Secret file: no restart), renews it half
way through its life, and at once when the proxy says GitHub refused it (the proxy writes
REFUSED_FILE into its token folder, litellm/internals/authenticator.py). The console and
the login page (`report`, the local CredentialReady) get the organisation and the times,
or what GitHub refused and what to do; never the key or a token. While the key exchange
refuses the current token (e.g. the organisation's policy is off) it is asked again every
RECHECK seconds, so the page says when GitHub takes it again. No device flow: nobody signs in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from copilot_proxy.core.app_failures import (
    MINTED,
    TOKEN_REFUSED,
    AppFailure,
    Where,
    key_invalid,
)
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.github import app_tokens
from copilot_proxy.github.endpoints import GitHubEndpoints

RETRY_TRANSIENT = 5.0  # seconds before minting again after GitHub did not answer
RETRY_REFUSED = 30.0  # ... after a refusal a person must fix (a key, a permission, a policy)
MIN_REMINT = 1.0  # a refused token is replaced at once, but not more than once a second
RECHECK = 10.0  # seconds between key exchanges with a token Copilot refused (one cheap GET)


class KeyFileError(Exception):
    """The --github-app-key file cannot be read; the message says so, never its content."""


def read_key(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else "not text"
        raise KeyFileError(f"cannot read the GitHub App key {path}: {why}") from None


def check_key(path: Path, app: GitHubApp) -> None:
    """Refuse at start a file that holds no RSA private key (KeyFileError, without the key)."""
    try:
        app_tokens.app_jwt(app.issuer, read_key(path), time.time(), Where(app=app))
    except app_tokens.AppCredentialError:
        raise KeyFileError(
            f"{path} holds no RSA private key in PEM form: download a private key from the"
            " GitHub App's settings (Private keys -> Generate a private key)"
        ) from None


def clock(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M:%S")


@dataclass(frozen=True)
class Minted:
    account: str
    expires_at: datetime
    renew_at: datetime
    minted: float  # time.time() of the mint


class AppTokens:
    """Mint, write and renew; `failure` is what GitHub refused last (None while all is well)."""

    def __init__(
        self,
        *,
        app: GitHubApp,
        key_file: Path,
        endpoints: GitHubEndpoints,
        write: Callable[[app_tokens.InstallationToken], None],
        refused_file: Path,
        say: Callable[[str], None],
        where: Where,
        report: Callable[[bool, str, str], None] = lambda ready, reason, message: None,
    ) -> None:
        self.app, self.key_file, self.ep = app, key_file, endpoints
        self.write, self.refused_file, self.say = write, refused_file, say
        self.where, self.report = where, report
        self.current: Minted | None = None
        self.failure: AppFailure | None = None
        self.next_try = 0.0  # after a failed mint
        self.remint_after = 0.0  # a refused token is replaced after this time
        self.checked = False  # the key exchange took a token of this run once
        self.token = ""  # the current installation token (it is in the token file too)
        self.recheck_at: float | None = None  # while the key exchange refuses self.token
        self.stale = False  # a recheck found self.token revoked or expired: mint anew

    @property
    def describe(self) -> str:
        m = self.current
        who = f"GitHub App {self.app.issuer} on {m.account if m else '?'}"
        if m is None:
            return who
        return f"{who}: token expires {clock(m.expires_at)}, renews {clock(m.renew_at)}"

    def tick(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        refused = self._refused_since()
        due = self.stale or self.current is None or now >= self.current.renew_at.timestamp()
        if refused and now >= self.remint_after:
            due, self.checked = True, False  # the proxy says GitHub refused the token
        if due and now >= self.next_try:
            self._mint(now)
        elif self.recheck_at is not None and now >= self.recheck_at:
            self._recheck(now)

    def _refused_since(self) -> bool:
        """Did the proxy's key exchange meet a refusal after the current token was written?"""
        try:
            said = json.loads(self.refused_file.read_text(encoding="utf-8"))
            at = float(said.get("at") or 0.0)
        except (OSError, ValueError, AttributeError, TypeError):
            return False
        return self.current is not None and at > self.current.minted

    def _mint(self, now: float) -> None:
        try:
            pem = read_key(self.key_file)
            with httpx.Client(timeout=app_tokens.TIMEOUT) as http:
                token = app_tokens.mint_installation_token(
                    http, self.ep, self.app, pem, now, self.where
                )
                failure = None
                if not self.checked:  # the first token, and after a refusal: ask Copilot too
                    failure = app_tokens.check_token(http, self.ep, token.token, self.where)
        except KeyFileError as error:
            self._failed(key_invalid(self.where, str(error)), now)
            return
        except app_tokens.AppCredentialError as error:
            self._failed(error.failure, now)
            return
        self.write(token)
        self.current = Minted(token.account, token.expires_at, token.renew_at, now)
        self.token, self.checked, self.stale = token.token, failure is None, False
        self.remint_after = now + MIN_REMINT
        self.say(self.describe)
        if failure is not None:  # written anyway: the proxy answers clients why
            self._note(failure)
            self.recheck_at = now + RECHECK
            if not failure.transient:  # minting again cannot help soon
                self.remint_after = now + RETRY_REFUSED
        else:
            self._taken()

    def _recheck(self, now: float) -> None:
        """Ask the key exchange again with the current token: has someone fixed it?"""
        self.recheck_at = now + RECHECK
        try:
            with httpx.Client(timeout=app_tokens.TIMEOUT) as http:
                failure = app_tokens.check_token(http, self.ep, self.token, self.where)
        except app_tokens.AppCredentialError as error:
            failure = error.failure
        if failure is None:
            self.checked = True
            self._taken()
            return
        self._note(failure)
        if failure.reason == TOKEN_REFUSED:  # revoked or expired since: mint anew
            self.recheck_at, self.stale, self.checked = None, True, False

    def _taken(self) -> None:
        """The key exchange takes the current token."""
        self.recheck_at = None
        if self.failure is not None:
            self.failure = None
            self.say(f"GitHub App {self.app.issuer}: GitHub takes its token again.")
        self.report(True, MINTED, self.describe + ".")

    def _failed(self, failure: AppFailure, now: float) -> None:
        self.next_try = now + (RETRY_TRANSIENT if failure.transient else RETRY_REFUSED)
        self.recheck_at = None  # minting failed: the next mint says whether it is fixed
        self._note(failure)

    def _note(self, failure: AppFailure) -> None:
        if failure != self.failure:
            self.say(f"GitHub App {self.app.issuer}: {failure.reason}: {failure.message}")
        self.failure = failure
        self.report(False, failure.reason, failure.message)
