"""The proxy's master key, generated once per proxy by the operator or the local mode.

Format (docs/contracts.md): `sk-` + 48 random url-safe characters. LiteLLM
refuses publicly known keys (the original setup used one), so every proxy gets its own.
"""

from __future__ import annotations

import secrets

PREFIX = "sk-"


def generate_master_key() -> str:
    # 36 random bytes -> 48 url-safe characters.
    return PREFIX + secrets.token_urlsafe(36)
