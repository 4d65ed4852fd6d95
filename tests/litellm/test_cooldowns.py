"""Cooldowns as Copilot states them: the wait a 429 says, the quota reset date for a 402,
else allowed_fails answers per minute and the router's cooldown_time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from copilot_proxy.litellm.cooldowns import Cooldowns, Policy, describe, stated_wait, until_reset
from copilot_proxy.litellm.failures import Failure

QUOTA = Failure("claude-opus-4.6", 402, "quota_exceeded")
LIMIT = Failure("gpt-5-mini", 429, "rate_limited")
WEEKLY = Failure("gpt-5-mini", 429, "user_weekly_rate_limited")
WALL = datetime(2026, 12, 10, 12, 0, tzinfo=UTC).timestamp()
POLICY = Policy(allowed_fails=0, cooldown_time=60.0, quota_seconds=3600.0)


@pytest.mark.parametrize(
    ("text", "headers", "seconds"),
    [
        # microsoft/vscode#325598, github/copilot-cli#2769, vscode-copilot-release#6479
        ("Sorry, you've exceeded your rate limits. Please retry after 2733 seconds.", {}, 2733),
        ("... Please try again in 51 hours. Please review our Terms of Service", {}, 51 * 3600),
        ("Sorry, your request was rate-limited. Please wait 587 hours 33 minutes before", {},
         587 * 3600 + 33 * 60),
        ("Please wait 2 minutes before trying again", {}, 120),
        ("rate limited", {"Retry-After": "33"}, 33),
        ("Please retry after 9 seconds", {"retry-after": "Thu, 10 Dec 2026 12:01:00 GMT"}, 60),
        ("Sorry, you have been rate-limited. Please wait a moment before trying again.", {}, None),
        ("You have no quota left for this model.", {}, None),
    ],
)  # fmt: skip
def test_the_wait_an_answer_states(
    text: str, headers: dict[str, str], seconds: float | None
) -> None:
    assert stated_wait(text, headers, WALL) == seconds


def test_a_stated_wait_cools_down_at_once_for_exactly_that_long() -> None:
    cooldowns = Cooldowns()
    cooling = cooldowns.cool(WEEKLY, 51 * 3600.0, Policy(allowed_fails=5), 100.0, WALL)
    assert cooling is not None and cooling.seconds == 51 * 3600
    assert describe(cooling) == (
        "cooldown: model=gpt-5-mini reason=user_weekly_rate_limited seconds=183600"
        " until=2026-12-12T15:00:00Z"
    )
    assert cooldowns.skipped(100.0 + 51 * 3600 - 1)[WEEKLY.model] == (WEEKLY, 1.0)
    assert cooldowns.skipped(100.0 + 51 * 3600) == {}


def test_a_spent_quota_waits_for_the_reset_date_else_the_quota_period() -> None:
    known = Policy(quota_reset_date="2027-01-01", quota_seconds=3600.0)
    cooling = Cooldowns().cool(QUOTA, None, known, 0.0, WALL)
    assert cooling is not None
    assert cooling.until_wall == datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    past = Policy(quota_reset_date="2026-12-01", quota_seconds=7200.0)  # already passed
    assert Cooldowns().cool(QUOTA, None, past, 0.0, WALL).seconds == 7200.0  # type: ignore[union-attr]
    assert until_reset("2027-01-01T00:00:00Z", WALL) == until_reset("2027-01-01", WALL)
    assert until_reset("soon", WALL) is None


def test_allowed_fails_0_cools_down_at_the_first_failure() -> None:
    cooldowns = Cooldowns()
    assert cooldowns.skipped(100.0) == {}
    assert cooldowns.cool(LIMIT, None, POLICY, 100.0, WALL) is not None
    assert cooldowns.skipped(130.5) == {LIMIT.model: (LIMIT, 29.5)}


def test_allowed_fails_n_tolerates_n_failures_then_counts_again() -> None:
    cooldowns = Cooldowns()
    policy = Policy(allowed_fails=2, cooldown_time=1.0)
    started = [cooldowns.cool(LIMIT, None, policy, t, WALL) is not None for t in range(6)]
    assert started == [False, False, True, False, False, True]


def test_failures_older_than_a_minute_do_not_count() -> None:
    cooldowns = Cooldowns()
    policy = Policy(allowed_fails=2)
    assert cooldowns.cool(LIMIT, None, policy, 0.0, WALL) is None
    assert cooldowns.cool(LIMIT, None, policy, 30.0, WALL) is None
    assert cooldowns.cool(LIMIT, None, policy, 61.0, WALL) is None, "the one at 0 s aged out"
    assert cooldowns.cool(LIMIT, None, policy, 62.0, WALL) is not None


def test_the_same_cooldown_reported_twice_starts_once_and_a_longer_one_wins() -> None:
    cooldowns = Cooldowns()
    assert cooldowns.cool(QUOTA, None, POLICY, 0.0, WALL) is not None
    assert cooldowns.cool(QUOTA, None, POLICY, 0.2, WALL) is None  # /v1/messages reports twice
    longer = Failure(QUOTA.model, 429, "user_weekly_rate_limited")
    assert cooldowns.cool(longer, 7200.0, POLICY, 50.0, WALL) is not None
    assert cooldowns.skipped(70.0) == {QUOTA.model: (longer, 7180.0)}


def test_cooldown_time_0_turns_cooldowns_off() -> None:
    assert Cooldowns().cool(WEEKLY, 60.0, Policy(cooldown_time=0.0), 0.0, WALL) is None
