"""The resync schedule (operator/schedule.py): a proxy runs again at its resync period, or
sooner when its reconcile asked to (a GitHub App token's renewal time)."""

from __future__ import annotations

import time

from copilot_proxy.operator.schedule import Schedule

A, B = ("default", "a"), ("default", "b")


def test_a_wake_up_time_runs_a_proxy_before_its_resync_period() -> None:
    schedule = Schedule()
    schedule.ran(A, wake_in=0.05)
    schedule.ran(B, wake_in=None)
    assert schedule.due(period=60) == []
    time.sleep(0.06)
    assert schedule.due(period=None) == [A], "the wake-up comes without a resync look"
    assert schedule.due(period=None) == [], "one run per wake-up"


def test_the_resync_period_still_visits_every_known_proxy() -> None:
    schedule = Schedule()
    schedule.know(A)
    schedule.ran(B, wake_in=30)
    time.sleep(0.02)
    assert schedule.due(period=0.01) == [A, B]
    assert schedule.due(period=None) == []


def test_a_deleted_proxy_is_forgotten() -> None:
    schedule = Schedule()
    schedule.ran(A, wake_in=0)
    schedule.forget(A)
    assert schedule.due(period=0) == []
