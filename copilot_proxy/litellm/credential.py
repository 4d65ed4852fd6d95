"""A GitHub credential refused at the Copilot key exchange: one clear error, no fall-through.

Every model of a proxy is reached with the one GitHub credential (a signed-in account's
token or a GitHub App's installation token), so when GitHub refuses it (401: expired or
revoked, 403: e.g. the organisation's policy for Copilot requests from Apps is off) trying
the next model cannot help: clients get one error, 503 with `x-should-retry: false`, that
says the credential was refused, GitHub's reason, and where to look.

Pure: `Memo` remembers the last refusal with the token file it came from
(internals.token_identity), so requests after it are answered at once, without asking
GitHub again, until the token file changes (a rotation) or REMEMBER seconds pass (the
organisation's admin may have switched the policy back on).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

REFUSED_TEXT = "GitHub refused the proxy's credential"  # CredentialRefused's message starts so
REFUSED_STATUS = 503
REFUSED_TYPE = "credential_refused"
REFUSAL_STATUSES = frozenset({401, 403})  # at the key exchange: the credential itself
REMEMBER = 10.0  # seconds a refusal is answered without a new key exchange
TOKEN_WAIT = 3.0  # seconds a request waits for a new token file after a 401 (a rotation)
REASON_LIMIT = 300
# GitHub's message is shown to clients: never anything shaped like a GitHub token.
_TOKEN_SHAPE = re.compile(r"\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]+")

TokenId = tuple[int, ...]


@dataclass(frozen=True)
class Refusal:
    status: int  # GitHub's status at the key exchange
    reason: str  # GitHub's message, cleaned (reason_of)
    token: TokenId  # the token file that was refused
    at: float  # time.monotonic() of the refusal


def reason_of(body: object, status: int) -> str:
    """GitHub's `message` of an error answer, on one line, cut, without token-shaped words."""
    text = body.get("message") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        text = {401: "Bad credentials", 403: "Forbidden"}.get(status, f"HTTP {status}")
    text = " ".join(text.split())
    text = _TOKEN_SHAPE.sub("[token]", text)
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"


class Memo:
    """The last refusal, shared by the threads that exchange keys."""

    def __init__(self, remember: float = REMEMBER) -> None:
        self.remember = remember
        self._lock = threading.Lock()
        self._last: Refusal | None = None

    def refused(self, refusal: Refusal) -> None:
        with self._lock:
            self._last = refusal

    def accepted(self) -> None:
        with self._lock:
            self._last = None

    def current(self, token: TokenId, now: float) -> Refusal | None:
        """The refusal still standing for this token file, if any."""
        with self._lock:
            last = self._last
        if last is None or last.token != token or now - last.at >= self.remember:
            return None
        return last

    def last(self, now: float) -> Refusal | None:
        """The refusal of the last REMEMBER seconds, whatever the token file is now."""
        with self._lock:
            last = self._last
        return last if last is not None and now - last.at < self.remember else None


def message(refusal: Refusal, namespace: str, name: str) -> str:
    """The one error clients get while the credential is refused."""
    if refusal.status == 401:
        what = (
            f"GitHub refused this proxy's GitHub credential (401: {refusal.reason}): its token "
            "expired or was revoked and no new one has reached the proxy yet."
        )
    else:
        what = (
            f"GitHub refused this proxy's GitHub credential ({refusal.status}: {refusal.reason})."
        )
    where = (
        f"Run 'kubectl describe cpx {name} -n {namespace}'"
        if name
        else "Run 'kubectl describe cpx <name>'"
    )
    return (
        f"{what} Every model of this proxy uses this credential, so none can answer. "
        f"{where} (local mode: see the console of 'copilot-proxy run') for what to do."
    )
