"""What the local mode says, in words (pure): why no proxy answers, for the login page and
for clients on the proxy's port; what became of the GitHub token, for the console."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Reason:
    """Why no proxy answers: a short code for programs, a sentence for people."""

    code: str  # not_signed_in | stopped | port_taken | crashing | starting
    message: str
    retry: bool = False  # True: it resolves by itself soon (clients may retry)


STARTING = Reason("starting", "The proxy is starting.", retry=True)


@dataclass(frozen=True)
class Idle:
    """What the supervisor knows while no proxy process runs."""

    signed_in: bool
    replicas: int
    manifest: Path
    port: int
    port_taken: bool
    last_error: str  # the log line that says why the proxy crashed ('' when it did not)
    retry_in: int  # seconds until the next try after a crash
    log: Path
    key_file: Path


def why_idle(idle: Idle, login_url: str) -> Reason:
    if not idle.signed_in:
        return Reason(
            "not_signed_in",
            f"copilot-proxy is not signed in to GitHub: open {login_url}, unlock the page "
            f"with the master key (in {idle.key_file}) and sign in; the proxy starts by "
            "itself then.",
        )
    if idle.replicas == 0:
        return Reason("stopped", f"spec.replicas is 0 in {idle.manifest}: the proxy is off.")
    if idle.port_taken:
        return Reason(
            "port_taken", f"Port {idle.port} is taken by another program; the proxy waits for it."
        )
    if idle.last_error:
        return Reason(
            "crashing",
            f"The proxy is crashing: {idle.last_error} Next try in {idle.retry_in} s; "
            f"its log: {idle.log}",
        )
    return STARTING


def token_news(before: str | None, fingerprint: str, login: str, login_url: str) -> str:
    """The console line for a token that changed: `before` is the last token's fingerprint
    (None at start, '' when there was none), `fingerprint` the new one ('' when none)."""
    who = f"@{login}" if login else "your GitHub account"
    if not fingerprint:
        if before is None:
            return (
                f"Not signed in to GitHub yet: open {login_url}, unlock it with the\n"
                "master key and sign in. The proxy starts by itself then."
            )
        return f"Signed out of GitHub. Sign in again at {login_url}"
    if before is None:
        return f"GitHub token found (signed in as {who})."
    if before:
        return f"New GitHub token (signed in as {who})."
    return f"Signed in to GitHub as {who}."
