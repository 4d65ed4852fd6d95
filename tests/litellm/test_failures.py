"""Failure classification, the failed hops of running requests, the all-failed error."""

from __future__ import annotations

import pytest

from copilot_proxy.litellm.failures import (
    Attempts,
    Error,
    Failure,
    all_failed,
    span,
    unavailable,
)

TOO_LONG = "model_max_prompt_tokens_exceeded"
COPILOT_402 = '{"error":{"message":"You have no quota","code":"quota_exceeded"}}'


@pytest.mark.parametrize(
    ("status", "text", "kind", "reason"),
    [
        (402, COPILOT_402, "APIError", "quota_exceeded"),
        (402, "Payment Required", "APIError", "quota_exceeded"),
        (429, "code: user_weekly_rate_limited", "RateLimitError", "user_weekly_rate_limited"),
        (429, "code: rate_limited", "RateLimitError", "rate_limited"),
        (429, "Too Many Requests", "RateLimitError", "rate_limited"),
        (400, "code: model_not_supported", "BadRequestError", "model_not_supported"),
        (400, "unsupported_api_for_model", "BadRequestError", "unsupported_api_for_model"),
        (400, "code: model_max_prompt_tokens_exceeded", "BadRequestError", TOO_LONG),
        (401, "token_expired", "AuthenticationError", "token_expired"),
        (401, "Unauthorized", "AuthenticationError", "unauthorized"),
        (403, "Forbidden", "PermissionDeniedError", "forbidden"),
        (500, "Internal Server Error", "InternalServerError", "upstream_error"),
        (503, "Service Unavailable", "ServiceUnavailableError", "upstream_error"),
        (408, "Request timed out", "Timeout", "Timeout"),
        (None, "Connection reset", "APIConnectionError", "APIConnectionError"),
        (400, "bad request", "BadRequestError", "BadRequestError"),
    ],
)
def test_reason_is_copilots_code_else_named_by_status_else_the_exception(
    status: int | None, text: str, kind: str, reason: str
) -> None:
    assert Error(status, text, kind).reason == reason


def test_a_reason_never_repeats_the_message() -> None:
    error = Error(400, "Bearer ghu_secret123 was refused", "BadRequestError")
    assert "secret" not in error.reason


def test_failure_names_the_copilot_model_without_the_provider_prefix() -> None:
    failure = Failure.of("github_copilot/gpt-5", Error(500, "", "InternalServerError"))
    assert failure == Failure("gpt-5", 500, "upstream_error")
    assert failure.describe() == "gpt-5: 500 upstream_error"
    assert Failure.of(None, Error(None, "", "Timeout")).describe() == "?: - Timeout"


QUOTA = Failure("claude-opus-4.6", 402, "quota_exceeded")
LIMIT = Failure("gemini-3-pro-preview", 429, "rate_limited")


def test_attempts_keep_a_requests_failures_in_order_until_it_ends() -> None:
    attempts = Attempts()
    attempts.add("call-1", QUOTA)
    attempts.add("call-1", QUOTA)  # /v1/messages reports an attempt twice
    attempts.add("call-2", LIMIT)
    attempts.add("call-1", LIMIT)
    assert attempts.pop("call-1") == [QUOTA, LIMIT]
    assert attempts.pop("call-1") == []
    assert attempts.pop("call-2") == [LIMIT]
    assert attempts.pop(None) == []


def test_attempts_forget_the_least_recent_requests_beyond_the_limit() -> None:
    attempts = Attempts(limit=2)
    attempts.add("a", QUOTA)
    attempts.add("b", QUOTA)
    attempts.add("a", LIMIT)  # a is the most recent again
    attempts.add("c", QUOTA)
    assert attempts.pop("b") == []
    assert attempts.pop("a") == [QUOTA, LIMIT]
    assert attempts.pop("c") == [QUOTA]


CHAIN = ["claude-opus-4.6", "gemini-3-pro-preview", "gpt-5-mini"]


def test_all_failed_names_each_model_tried_skipped_or_not_tried() -> None:
    skipped = {"claude-opus-4.6": (QUOTA, 41.2)}
    answer = all_failed("smart", 429, CHAIN, [LIMIT], skipped)
    assert answer is not None
    assert answer.status == 429
    assert answer.detail == (
        "Every model for 'smart' failed."
        " claude-opus-4.6: 402 quota_exceeded, skipped for 42 s;"
        " gemini-3-pro-preview: 429 rate_limited;"
        " gpt-5-mini: not tried."
    )


def test_a_model_that_failed_is_named_by_its_failure_even_if_now_cooling_down() -> None:
    answer = all_failed("smart", 402, CHAIN[:2], [QUOTA, LIMIT], {QUOTA.model: (QUOTA, 60.0)})
    assert answer is not None
    assert "skipped" not in answer.detail


def test_all_failed_without_a_status_answers_503() -> None:
    answer = all_failed("smart", None, CHAIN[:2], [QUOTA, LIMIT], {})
    assert answer is not None and answer.status == 503


def test_all_failed_without_a_known_chain_names_the_failed_models() -> None:
    answer = all_failed("smart", 429, [], [QUOTA, LIMIT], {})
    assert answer is not None
    assert answer.detail == (
        "Every model for 'smart' failed."
        " claude-opus-4.6: 402 quota_exceeded; gemini-3-pro-preview: 429 rate_limited."
    )


def test_one_model_chain_keeps_litellms_own_error() -> None:
    assert all_failed("gpt-5-mini", 500, ["gpt-5-mini"], [LIMIT], {}) is None
    assert all_failed("x", 500, [], [QUOTA], {}) is None


def test_the_session_limit_is_named_by_its_code() -> None:
    error = Error(429, "Please retry after 2733 seconds. (code: user_global_rate_limited)", "X")
    assert error.reason == "user_global_rate_limited"


def test_nothing_can_answer_names_each_model_why_and_when_it_is_back() -> None:
    wall = 1796472000.0  # 2026-12-05 12:00 UTC
    cooling = {
        "claude-opus-4.6": (Failure("claude-opus-4.6", 429, "user_weekly_rate_limited"), 183600.0,
                            wall + 183600),
        "gpt-5-mini": (Failure("gpt-5-mini", 402, "quota_exceeded"), 45.2, wall + 45.2),
    }  # fmt: skip
    answer = unavailable("claude-sonnet-4-5-20250929", ["claude-opus-4.6", "gpt-5-mini"], cooling)
    assert answer is not None
    assert answer.status == 402  # no client retries it in a loop
    assert answer.retry_after == 46
    assert answer.detail == (
        "No model can answer 'claude-sonnet-4-5-20250929' now. claude-opus-4.6: weekly rate limit"
        " reached (user_weekly_rate_limited), back in 2 d 3 h (at 2026-12-07 15:00 UTC);"
        " gpt-5-mini: quota spent (quota_exceeded), back in 46 s (at 2026-12-05 12:00 UTC)."
    )
    assert "No deployments available" not in answer.detail  # LiteLLM would make that a 429
    assert unavailable("x", ["claude-opus-4.6", "gemini-3-pro-preview"], cooling) is None
    assert unavailable("x", [], cooling) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.2, "1 s"), (59, "59 s"), (60, "1 min"), (61, "2 min"), (3600, "1 h"),
     (3660, "1 h 1 min"), (47 * 3600, "47 h"), (51 * 3600, "2 d 3 h"), (96 * 3600, "4 d")],
)  # fmt: skip
def test_span(seconds: float, text: str) -> None:
    assert span(seconds) == text
