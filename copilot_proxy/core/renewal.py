"""When the operator mints a GitHub App's installation token (pure).

- At once, without asking anyone, when the token Secret holds no token, a token of
  another App or installation (the spec changed), or the renewal time (half life,
  core/credential.renew_at) has come: `mint_due`.
- Otherwise the token is checked at the Copilot key exchange (at most every
  CHECK seconds); what its answer means: `after_check`.
- A mint GitHub refused is not repeated unchanged (same spec, same key Secret
  version) before `retry_in` says so: a wrong key must not cost a JWT per event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from copilot_proxy.core import credential
from copilot_proxy.core.app_failures import TOKEN_REFUSED, AppFailure

RETRY_TRANSIENT = 5.0  # GitHub unreachable, or a token refused: soon

Next = Literal["keep", "report", "mint"]


def mint_due(
    present: bool, held_identity: str, identity: str, now: datetime, renew: datetime | None
) -> bool:
    """Mint now? No token, another identity's token, or its renewal time has come."""
    return not present or held_identity != identity or credential.due(now, renew, True)


def after_check(refusal: AppFailure | None, asked_now: bool) -> Next:
    """keep the token (the exchange took it); mint a new one (refused just now, or the
    last answer was that the token is expired or revoked); or report the last refusal
    until the next check (e.g. the organisation's policy: a new token would not help)."""
    if refusal is None:
        return "keep"
    if asked_now or refusal.reason == TOKEN_REFUSED:
        return "mint"
    return "report"


def retry_in(failure: AppFailure, failed_seconds_ago: float, retry: float) -> float:
    """Seconds before the same failed mint is tried again; <= 0: now."""
    return (RETRY_TRANSIENT if failure.transient else retry) - failed_seconds_ago
