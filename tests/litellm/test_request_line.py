"""The request log line: what one request did, in one line a person and the local mode read."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest

from copilot_proxy.litellm import request_line
from copilot_proxy.litellm.request_line import LOGGER_NAME, Served


def served(**fields: object) -> Served:
    values: dict[str, object] = {
        "route": "/v1/chat/completions",
        "asked": "smart",
        "served": "gpt-5-mini",
        "upstream": "gpt-5-mini",
        "failed": ["claude-opus-4.6", "gemini-3-pro-preview"],
        "stream": True,
        "ms": 1234,
        **fields,
    }
    return Served(**values)  # type: ignore[arg-type]


def test_served_line_names_asked_served_and_failed_models() -> None:
    assert request_line.served_line(served()) == (
        "route=/v1/chat/completions asked=smart served=gpt-5-mini upstream=gpt-5-mini"
        " failed=claude-opus-4.6,gemini-3-pro-preview status=200 stream=true ms=1234"
        " initiator=-"
    )


def test_served_line_says_who_started_it_and_what_it_cost() -> None:
    line = request_line.served_line(
        served(initiator="agent", cost="in=10 cached=2000 out=5 credits=0.0101")
    )
    assert line.endswith(" ms=1234 initiator=agent in=10 cached=2000 out=5 credits=0.0101")


def test_served_line_without_failures_or_stream() -> None:
    line = request_line.served_line(served(asked="gpt-5-mini", failed=[], stream=False, ms=0))
    assert " failed=- status=200 stream=false ms=0" in line


def test_failed_line_names_the_status_the_client_got_and_why() -> None:
    line = request_line.failed_line(
        "/v1/messages", "smart", ["claude-opus-4.6", "gpt-5-mini"], 429, "rate_limited"
    )
    assert line == (
        "route=/v1/messages asked=smart served=- upstream=- failed=claude-opus-4.6,gpt-5-mini"
        " status=429 error=rate_limited"
    )
    line = request_line.failed_line("-", "-", [], "-", "ProxyException")
    assert line == "route=- asked=- served=- upstream=- failed=- status=- error=ProxyException"


def test_mcp_calls_get_their_own_line_naming_the_tool() -> None:
    assert request_line.mcp_tool("MCP: notes-add_note") == "notes-add_note"
    assert request_line.mcp_tool("gpt-5-mini") is None
    assert request_line.mcp_tool("fast#MCP: x") is None
    assert request_line.mcp_line("/mcp", "notes-add_note", 12) == (
        "route=/mcp mcp=notes-add_note status=200 ms=12"
    )


def test_failed_before_lists_each_model_once_failures_first() -> None:
    failed = request_line.failed_before(["a", "b"], ["c", "a", "c", "d"])
    assert failed == ["a", "b", "c", "d"]
    assert request_line.failed_before([], []) == []


def test_millis_of_litellms_datetimes_and_of_anything_else() -> None:
    start = datetime(2026, 12, 1, 12, 0, 0)
    assert request_line.millis(start, start + timedelta(seconds=1.2345)) == 1234
    assert request_line.millis(None, start) == 0
    assert request_line.millis(1.0, 2.5) == 0


def test_the_logger_writes_lines_the_local_mode_finds_by_its_name() -> None:
    log = request_line.make_logger()
    assert request_line.make_logger() is log
    assert log.name == LOGGER_NAME == "copilot_proxy.requests"
    assert (log.level, log.propagate, len(log.handlers)) == (logging.INFO, False, 1)
    record = log.makeRecord(LOGGER_NAME, logging.INFO, __file__, 1, "route=/x", (), None)
    text = log.handlers[0].format(record)
    # local/supervisor.py shows what follows " copilot_proxy.requests " on the console.
    assert text.split(f" {LOGGER_NAME} ", 1)[1] == "route=/x"


def test_the_request_line_module_does_not_import_litellm() -> None:
    """The local mode's supervisor imports LOGGER_NAME; it must not load LiteLLM for it."""
    code = (
        "import sys, copilot_proxy.litellm.request_line;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'fastapi')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "asked",
    [
        "x\n2026-12-01 copilot_proxy.requests route=/forged",
        "a b=c",
        "tab\there",
        "\x1b[31m",
        "100%",
    ],
)
def test_a_client_chosen_model_name_cannot_forge_or_split_a_line(asked: str) -> None:
    # The model name is the client's: a newline would start a forged log line, a space
    # a forged `key=value` field. It is percent-encoded, so it still reads back exactly.
    lines = {
        "asked": request_line.served_line(
            Served("/v1/chat/completions", asked, "m", "m", [], False, 1)
        ),
        "asked ": request_line.failed_line("/v1/chat/completions", asked, [], 400, "bad"),
        "mcp": request_line.mcp_line("/mcp", asked, 1),
    }
    for key, line in lines.items():
        assert line.isprintable(), line
        fields = dict(part.split("=", 1) for part in line.split(" "))
        assert unquote(fields[key.strip()]) == asked
