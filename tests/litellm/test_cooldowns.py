"""Cooldown bookkeeping: allowed_fails 402/429 answers per minute, then skipped for a while."""

from __future__ import annotations

from copilot_proxy.litellm.cooldowns import Cooldowns
from copilot_proxy.litellm.failures import Failure

QUOTA = Failure("claude-opus-4.6", 402, "quota_exceeded")
LIMIT = Failure("gpt-5-mini", 429, "rate_limited")
COOLDOWN = 60.0


def test_allowed_fails_0_cools_down_at_the_first_failure() -> None:
    cooldowns = Cooldowns()
    assert cooldowns.skipped(100.0) == {}
    assert cooldowns.cools_down(QUOTA, 100.0, 0, COOLDOWN)
    assert cooldowns.skipped(130.5) == {QUOTA.model: (QUOTA, 29.5)}


def test_allowed_fails_n_tolerates_n_failures_then_counts_again() -> None:
    cooldowns = Cooldowns()
    assert [cooldowns.cools_down(LIMIT, t, 2, COOLDOWN) for t in (0.0, 1.0, 2.0)] == [
        False,
        False,
        True,
    ]
    assert LIMIT.model in cooldowns.skipped(3.0)
    assert [cooldowns.cools_down(LIMIT, t, 2, COOLDOWN) for t in (4.0, 5.0, 6.0)] == [
        False,
        False,
        True,
    ]


def test_failures_older_than_a_minute_do_not_count() -> None:
    cooldowns = Cooldowns()
    assert not cooldowns.cools_down(LIMIT, 0.0, 2, COOLDOWN)
    assert not cooldowns.cools_down(LIMIT, 30.0, 2, COOLDOWN)
    assert not cooldowns.cools_down(LIMIT, 61.0, 2, COOLDOWN), "the one at 0 s has aged out"
    assert cooldowns.cools_down(LIMIT, 62.0, 2, COOLDOWN)


def test_each_model_counts_alone() -> None:
    cooldowns = Cooldowns()
    assert not cooldowns.cools_down(QUOTA, 0.0, 1, COOLDOWN)
    assert not cooldowns.cools_down(LIMIT, 0.5, 1, COOLDOWN)
    assert cooldowns.cools_down(QUOTA, 1.0, 1, COOLDOWN)
    assert set(cooldowns.skipped(2.0)) == {QUOTA.model}


def test_a_cooldown_ends_after_its_time() -> None:
    cooldowns = Cooldowns()
    cooldowns.cools_down(QUOTA, 0.0, 0, COOLDOWN)
    assert QUOTA.model in cooldowns.skipped(59.9)
    assert cooldowns.skipped(60.0) == {}


def test_a_new_cooldown_says_the_newest_reason_and_time() -> None:
    cooldowns = Cooldowns()
    cooldowns.cools_down(QUOTA, 0.0, 0, COOLDOWN)
    again = Failure(QUOTA.model, 429, "user_weekly_rate_limited")
    cooldowns.cools_down(again, 50.0, 0, COOLDOWN)
    assert cooldowns.skipped(70.0) == {QUOTA.model: (again, 40.0)}
