"""One device-flow login as a value, and what each GitHub answer does to it (pure).

waiting --(token)--> verifying --(Copilot ok, stored)--> connected
   |                     `--(no Copilot / store failed)--> failed
   `--(expired, denied, bad client id, unreachable)--> failed
any unfinished --(cancel)--> cancelled

The token itself is never part of a Login: the shell holds it between
"verifying" and the store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from copilot_proxy.auth.stores.protocol import ProxyRef
from copilot_proxy.github.device_flow import (
    BadClient,
    Denied,
    DeviceCode,
    Expired,
    Granted,
    Pending,
    PollResult,
    SlowDown,
    Unexpected,
)


class Phase(StrEnum):
    WAITING = "waiting"
    VERIFYING = "verifying"
    CONNECTED = "connected"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({Phase.CONNECTED, Phase.FAILED, Phase.CANCELLED})


@dataclass(frozen=True)
class Login:
    id: str
    proxy: ProxyRef
    user_code: str
    verification_uri: str
    started_at: float
    expires_at: float
    interval: float
    next_poll_at: float
    phase: Phase = Phase.WAITING
    error: str = ""  # machine-readable reason when failed
    message: str = ""  # for people
    github_login: str = ""
    failures: int = 0  # consecutive polls GitHub did not answer
    finished_at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED


WAITING_MESSAGE = "Enter the code on GitHub and approve the sign-in."


def start(
    login_id: str, proxy: ProxyRef, code: DeviceCode, now: float, min_interval: float
) -> Login:
    interval = max(float(code.interval), min_interval)
    return Login(
        id=login_id,
        proxy=proxy,
        user_code=code.user_code,
        verification_uri=code.verification_uri,
        started_at=now,
        expires_at=now + code.expires_in,
        interval=interval,
        next_poll_at=now + interval,
        message=WAITING_MESSAGE,
    )


def fail(login: Login, error: str, message: str, now: float) -> Login:
    if login.finished:  # e.g. cancelled while GitHub was answering
        return login
    return replace(login, phase=Phase.FAILED, error=error, message=message, finished_at=now)


def timed_out(login: Login, now: float) -> Login | None:
    """The login once its code expired unanswered; None while it is still valid."""
    if login.phase is Phase.WAITING and now >= login.expires_at:
        return fail(login, "expired", EXPIRED_MESSAGE, now)
    return None


EXPIRED_MESSAGE = "The code expired before the sign-in was approved. Start again for a new code."
MESSAGES = {
    "denied": "The sign-in was cancelled on GitHub. Start again if that was a mistake.",
    "bad_client": (
        "GitHub does not accept the OAuth client id (GITHUB_OAUTH_CLIENT_ID). "
        "Fix the service's configuration, then try again."
    ),
}


def after_poll(login: Login, result: PollResult, now: float, min_interval: float) -> Login:
    """The login after one answer of GitHub's token endpoint."""
    if login.phase is not Phase.WAITING:
        return login
    polled = replace(login, failures=0, next_poll_at=now + login.interval)
    match result:
        case Pending():
            return timed_out(polled, now) or replace(polled, message=WAITING_MESSAGE)
        case SlowDown(interval=seconds):
            interval = max(float(seconds), login.interval, min_interval)
            return replace(
                polled,
                interval=interval,
                next_poll_at=now + interval,
                message=f"GitHub asked to slow down; checking every {interval:g} s.",
            )
        case Expired():
            return fail(polled, "expired", EXPIRED_MESSAGE, now)
        case Denied():
            return fail(polled, "denied", MESSAGES["denied"], now)
        case BadClient():
            return fail(polled, "bad_client", MESSAGES["bad_client"], now)
        case Granted():
            return replace(
                polled, phase=Phase.VERIFYING, message="Approved. Checking Copilot access…"
            )
        case Unexpected(detail=detail):
            return fail(polled, "unexpected", f"GitHub answered unexpectedly ({detail}).", now)
    raise AssertionError(result)


def after_unreachable(login: Login, host: str, now: float, max_failures: int) -> Login:
    """GitHub did not answer a poll: wait and retry, give up after `max_failures`."""
    if login.phase is not Phase.WAITING:
        return login
    failures = login.failures + 1
    if failures >= max_failures:
        return fail(
            login,
            "unreachable",
            f"{host} did not answer {failures} times in a row. Check the network, then try again.",
            now,
        )
    # Back off a little more each time; the code stays valid meanwhile.
    wait = login.interval * (failures + 1)
    return replace(
        login,
        failures=failures,
        next_poll_at=now + wait,
        message=f"{host} did not answer; trying again in {wait:g} s.",
    )


def connected(login: Login, github_login: str, now: float) -> Login:
    if login.finished:
        return login
    who = f"@{github_login}" if github_login else "your GitHub account"
    return replace(
        login,
        phase=Phase.CONNECTED,
        github_login=github_login,
        message=f"Connected as {who}.",
        finished_at=now,
    )


def cancelled(login: Login, now: float) -> Login:
    if login.finished:
        return login
    return replace(login, phase=Phase.CANCELLED, message="Sign-in cancelled.", finished_at=now)


def view(login: Login, now: float) -> dict[str, Any]:
    """The JSON shown to the page and scripts (no device code, no token)."""
    showing_code = login.phase is Phase.WAITING
    return {
        "id": login.id,
        "proxy": login.proxy.id,
        "phase": login.phase.value,
        "error": login.error or None,
        "message": login.message,
        "userCode": login.user_code if showing_code else None,
        "verificationUri": login.verification_uri if showing_code else None,
        "expiresIn": max(int(login.expires_at - now), 0) if showing_code else None,
        "interval": login.interval,
        "githubLogin": login.github_login or None,
    }
