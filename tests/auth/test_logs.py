"""The login service's log lines: one event, one line, whatever the values say."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from copilot_proxy.auth.logs import LOGGER_NAME, escape_controls, log

AUTH = Path(__file__).resolve().parents[2] / "copilot_proxy" / "auth"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("octocat", "octocat"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x1b[2K\x00\x7f\x85", "\\x1b[2K\\x00\\x7f\\x85"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("ünï cødé \\n", "ünï cødé \\n"),  # printable text, backslashes included, unchanged
    ],
)
def test_escape_controls(text: str, shown: str) -> None:
    assert escape_controls(text) == shown


def test_every_record_of_the_service_logger_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        log.info("connected as %s (%d)", "x\ny", 3)
        log.info({"a": "1\n2"})
    assert [r.getMessage() for r in caplog.records] == [
        "connected as x\\ny (3)",
        "{'a': '1\\n2'}",
    ]


def test_the_service_logs_through_that_logger_only() -> None:
    for path in AUTH.rglob("*.py"):
        for call in re.findall(r"getLogger\(([^)]*)\)", path.read_text()):
            assert path.name == "logs.py" or call in ("", '"httpx"'), f"{path.name}: {call}"
