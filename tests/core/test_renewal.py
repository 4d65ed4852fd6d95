"""When the operator mints a GitHub App's installation token (core/renewal.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from copilot_proxy.core import renewal
from copilot_proxy.core.app_failures import AppFailure

MINTED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EXPIRES = MINTED + timedelta(hours=1)
RENEW = MINTED + timedelta(minutes=30)
ME = "github-app/123456/7890123"


@pytest.mark.parametrize(
    ("present", "held", "now", "due"),
    [
        (False, ME, MINTED, True),  # an empty Secret: at once
        (True, "github-app/123456/1", MINTED, True),  # another installation's token
        (True, "", MINTED, True),  # a person's token, the proxy now an App's
        (True, ME, MINTED + timedelta(minutes=29), False),
        (True, ME, RENEW, True),  # half life
    ],
)
def test_a_token_is_minted_when_missing_foreign_or_half_spent(
    present: bool, held: str, now: datetime, due: bool
) -> None:
    assert renewal.mint_due(present, held, ME, now, RENEW) is due


def test_an_unknown_renewal_time_mints() -> None:
    assert renewal.mint_due(True, ME, ME, MINTED, None)


POLICY = AppFailure("CopilotRequestsDisabled", "enable the policy")
REVOKED = AppFailure("TokenRefused", "expired or revoked")


def test_what_a_key_exchange_answer_means() -> None:
    assert renewal.after_check(None, asked_now=True) == "keep"
    assert renewal.after_check(POLICY, asked_now=True) == "mint", "GitHub says why on a mint"
    assert renewal.after_check(POLICY, asked_now=False) == "report", "not a mint per event"
    assert renewal.after_check(REVOKED, asked_now=False) == "mint"


def test_a_refused_mint_waits_before_the_same_attempt() -> None:
    wrong_key = AppFailure("KeyInvalid", "store the right key")
    assert renewal.retry_in(wrong_key, 10, retry=30) == 20
    unreachable = AppFailure("GitHubUnreachable", "tries again shortly")
    assert renewal.retry_in(unreachable, 1, retry=30) == renewal.RETRY_TRANSIENT - 1
