"""What a request cost: tokens from LiteLLM's record, AI credits from Copilot's answer bytes."""

from __future__ import annotations

import json

from copilot_proxy.litellm.calls import Call, Calls
from copilot_proxy.litellm.usage import Ledger, Usage, scan, tokens


def test_credits_from_nano_aiu() -> None:
    used = Usage(1200, 3400, 56, 2_500_000_000.0)
    assert used.credits == 2.5
    assert used.describe() == "in=1200 cached=3400 out=56 credits=2.5000"
    assert Usage(1, 0, 1, None).describe() == "in=1 cached=0 out=1 credits=-"


def test_tokens_split_cached_input_from_the_rest() -> None:
    logged = {
        "prompt_tokens": 5000,
        "completion_tokens": 40,
        "metadata": {"usage_object": {"prompt_tokens_details": {"cached_tokens": 4000}}},
    }
    assert tokens(logged) == (1000, 4000, 40)
    anthropic = {
        "prompt_tokens": 5000,
        "completion_tokens": 40,
        "metadata": {"usage_object": {"cache_read_input_tokens": 4500}},
    }
    assert tokens(anthropic) == (500, 4500, 40)
    assert tokens({}) == (0, 0, 0)
    assert tokens({"prompt_tokens": "x", "metadata": None}) == (0, 0, 0)


def test_scan_finds_copilot_usage_in_any_answer() -> None:
    whole = json.dumps({"id": "x", "copilot_usage": {"total_nano_aiu": 123456}}).encode()
    assert scan(whole) == [123456.0]
    sse = b'data: {"type":"message_delta","copilot_usage":{"total_nano_aiu":7.5e3}}\n\n'
    assert scan(sse) == [7500.0]
    nested = b'{"copilot_usage":{"token_details":[{"t":"in","n":1}],"total_nano_aiu":42}}'
    assert scan(nested) == [42.0]


def test_scan_ignores_what_the_model_wrote_and_numbers_cut_short() -> None:
    quoted = json.dumps({"text": json.dumps({"copilot_usage": {"total_nano_aiu": 5}})}).encode()
    assert scan(quoted) == []  # inside a string its quotes are escaped
    assert scan(b'{"copilot_usage":{"total_nano_aiu":1234') == []  # the rest comes next chunk


def test_scan_skips_what_an_earlier_chunk_showed() -> None:
    data = b'xx{"copilot_usage":{"total_nano_aiu":9}}'
    assert scan(data, after=len(data)) == []
    assert scan(data, after=3) == [9.0]


def test_ledger_adds_the_attempts_of_a_request() -> None:
    ledger = Ledger()
    ledger.attempt("call-1", "rid-a")  # a hop that failed: no answer, no charge
    ledger.attempt("call-1", "rid-b")
    ledger.attempt("call-2", "rid-c")
    ledger.charged("rid-b", 1000.0)
    ledger.charged("rid-c", 5.0)
    ledger.charged("unknown", 99.0)
    assert ledger.settle("call-1") == 1000.0
    assert ledger.settle("call-1") is None  # forgotten
    ledger.charged("rid-b", 1.0)  # too late: not charged to anything
    assert ledger.settle("call-2") == 5.0
    assert ledger.settle(None) is None


def test_ledger_forgets_requests_that_never_end() -> None:
    ledger = Ledger(limit=2)
    for n in range(3):
        ledger.attempt(f"call-{n}", f"rid-{n}")
        ledger.charged(f"rid-{n}", 1.0)
    assert ledger.settle("call-0") is None
    assert ledger.settle("call-2") == 1.0


def test_calls_remember_who_started_each_running_request() -> None:
    calls = Calls(limit=2)
    calls.start("a", Call("user", "claude-opus-4-6"))
    calls.start("b", Call("agent", "gpt-5-mini"))
    calls.start(None, Call("user", "x"))  # no call id: nothing to remember
    assert calls.get("a") == Call("user", "claude-opus-4-6")
    calls.start("c", Call("user", "x"))
    assert calls.get("a") is None  # the oldest went
    assert calls.end("b") == Call("agent", "gpt-5-mini") and calls.end("b") is None
