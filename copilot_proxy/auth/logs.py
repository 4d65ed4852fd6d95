"""The login service's logger, whose lines no value from outside can break.

Log lines carry values from outside: the GitHub login GitHub names, error
codes it sends, proxy names. A newline in one would start a forged line of
its own (`...connected as x\\n<date> INFO copilot_auth Page unlocked...`) and
a terminal escape would rewrite what an admin sees. Every record of this
logger is formatted once here, with control characters written as escapes
(`\\n`, `\\x1b`, `\\u2028`): one event, one line. Use `log` from this module,
never another logger, in copilot_proxy/auth/.
"""

from __future__ import annotations

import logging
import re

LOGGER_NAME = "copilot_auth"
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """`text` on one line: each control character as a visible escape."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


class OneLine(logging.Filter):
    """Formats the record's message and escapes it; tracebacks are left as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = escape_controls(record.getMessage())
        record.args = None
        return True


log = logging.getLogger(LOGGER_NAME)
if not any(isinstance(f, OneLine) for f in log.filters):
    log.addFilter(OneLine())
