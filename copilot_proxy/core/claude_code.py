"""Claude Code's model names: which model of a chain serves each, and the settings to give it.

Claude Code names models the Anthropic way (`claude-opus-4-6`, dated
`claude-sonnet-4-5-20250929`, `claude-3-5-haiku-20241022`, `claude-opus-4-6[1m]`);
Copilot the dotted way (`claude-opus-4.6`). `serving_model` picks the chain's
model for such a name:
1. a haiku-class name goes to `spec.smallModel`: Claude Code's small/fast model,
   which does its background work;
2. else the Copilot model the name denotes, when the chain has it;
3. else the newest model of the chain of the same family (opus, sonnet, ...);
4. else nothing: the catch-all serves it with the whole chain.
That model answers with the rest of its chain as fallback (render.py).
`client_settings` are the environment variables that make Claude Code ask for
those names without any warning (measured with Claude Code 2.1.332, docs/billing.md).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import NamedTuple

from copilot_proxy.core.spec import ProxySpec

FAMILIES = ("opus", "sonnet", "haiku", "fable")
SMALL_FAMILY = "haiku"
# The haiku-class id the settings name: it always reaches spec.smallModel (rule 1).
SMALL_MODEL_NAME = "claude-haiku-4-5"

_DATE = re.compile(r"-(\d{8}|latest)$")
_SUFFIX = re.compile(r"\[[^\]]*\]$")  # Claude Code's `[1m]` (1M-token context) mark
_REST = r"(?P<rest>(?:-[a-z][a-z0-9]*)*)"  # e.g. "-fast"
# claude-opus-4-6, claude-opus-4.6, claude-sonnet-4, claude-opus
_FAMILY_FIRST = re.compile(
    r"^claude-(?P<family>[a-z]+)(?:-(?P<major>\d+)(?:[-.](?P<minor>\d+))?)?" + _REST + "$"
)
# claude-3-5-haiku, claude-3-opus
_VERSION_FIRST = re.compile(
    r"^claude-(?P<major>\d+)(?:-(?P<minor>\d+))?-(?P<family>[a-z]+)" + _REST + "$"
)


class ClaudeId(NamedTuple):
    family: str
    version: tuple[int, ...]  # () for a bare family alias
    rest: str  # e.g. "-fast"

    @property
    def copilot(self) -> str:
        """Copilot's spelling, `claude-opus-4.6`; without a minor 0 (`claude-sonnet-4`)."""
        version = [str(v) for v in self.version]
        if len(version) == 2 and version[1] == "0":
            version = version[:1]
        dotted = "-" + ".".join(version) if version else ""
        return f"claude-{self.family}{dotted}{self.rest}"


def parse_id(name: str) -> ClaudeId | None:
    """A Claude model id in any spelling (or a family alias such as `opus`); None otherwise."""
    text = _DATE.sub("", _SUFFIX.sub("", name.strip().lower()))
    if text in FAMILIES:
        return ClaudeId(text, (), "")
    match = _FAMILY_FIRST.match(text) or _VERSION_FIRST.match(text)
    if match is None or match["family"] not in FAMILIES:
        return None
    version = tuple(int(v) for v in (match["major"], match["minor"]) if v is not None)
    return ClaudeId(match["family"], version, match["rest"] or "")


def serving_model(asked: str, chain: Collection[str], small_model: str = "") -> str | None:
    """The chain's model that serves a Claude model name, or None (the catch-all serves it).

    `chain` is the names the proxy serves; a name it serves itself is never changed.
    """
    if asked in chain:
        return None
    wanted = parse_id(asked)
    if wanted is None:
        return None
    if wanted.family == SMALL_FAMILY and small_model in chain:
        return small_model
    if wanted.copilot in chain:
        return wanted.copilot
    # Only names in Copilot's spelling: not routes, prefixed names or hop groups.
    family = [
        (parsed.version, name)
        for name in chain
        if (parsed := parse_id(name)) and parsed.family == wanted.family and parsed.copilot == name
    ]
    return max(family)[1] if family else None


def anthropic_id(model: str) -> str:
    """The Anthropic spelling of a Copilot Claude model (`claude-opus-4.6` -> `claude-opus-4-6`),
    which Claude Code knows (it misreads dotted ids: 2.1.197 takes `claude-opus-4.6` for
    the retired Opus 4); any other model as it is."""
    parsed = parse_id(model)
    if parsed is None or not parsed.version:
        return model
    return f"claude-{parsed.family}-{'-'.join(str(v) for v in parsed.version)}{parsed.rest}"


def client_settings(spec: ProxySpec) -> list[tuple[str, str]]:
    """Claude Code's model settings for this chain: (variable, value), in order.

    `ANTHROPIC_MODEL=opus` keeps Claude Code from assuming a 1M-token window (its
    default "Opus (1M context)"); the opus and sonnet slots name the chain's first
    model of that family (else its primary); the haiku slot names a haiku id,
    which the proxy serves with `spec.smallModel`.
    """
    primary = anthropic_id(spec.chain[0])
    opus = next((anthropic_id(m) for m in spec.chain if _family(m) == "opus"), primary)
    sonnet = next((anthropic_id(m) for m in spec.chain if _family(m) == "sonnet"), opus)
    return [
        ("ANTHROPIC_MODEL", "opus"),
        ("ANTHROPIC_DEFAULT_OPUS_MODEL", opus),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL", sonnet),
        ("ANTHROPIC_DEFAULT_HAIKU_MODEL", SMALL_MODEL_NAME),
    ]


def _family(model: str) -> str | None:
    parsed = parse_id(model)
    return parsed.family if parsed else None
