"""The hook's side of a refused GitHub credential (credential.py says why one error).

Before a request reaches any model, `refuse_if_refused` gets the Copilot key (LiteLLM's
Authenticator, watched by internals.watch_credential: a key exchange only when there is no
fresh key). When GitHub refuses the token, the request is answered at once with 503 and
`x-should-retry: false` on every route. After a 401 (a token that expired or was revoked)
it first waits up to TOKEN_WAIT seconds for a new token file: whoever writes it (the
operator, the local mode) replaces a refused token at once.
"""

from __future__ import annotations

import asyncio
import time

from copilot_proxy.litellm import internals, settings
from copilot_proxy.litellm.credential import (
    REFUSED_STATUS,
    REFUSED_TEXT,
    REFUSED_TYPE,
    TOKEN_WAIT,
    Memo,
    Refusal,
    message,
)
from copilot_proxy.litellm.failures import Answer

NO_RETRY = {"x-should-retry": "false"}
_POLL = 0.1
MARKER = REFUSED_TEXT  # how internals.CredentialRefused's message starts
AGAIN = (
    "GitHub refused this proxy's GitHub credential during this request; a new token has"
    " been taken since: send the request again."
)


class CredentialGate:
    def __init__(self, wait: float = TOKEN_WAIT) -> None:
        self.memo = Memo()
        self.wait = wait
        internals.watch_credential(self.memo)

    async def refuse_if_refused(self, call_type: object) -> None:
        """Raise the one credential error when GitHub refuses the token (MCP calls need none)."""
        if "mcp" in str(call_type) or internals.key_known_fresh(time.time()):
            return
        refusal = await asyncio.to_thread(internals.check_key)
        if refusal is not None and refusal.status == 401 and await self._new_token(refusal):
            refusal = await asyncio.to_thread(internals.check_key)
        if refusal is not None:
            raise internals.answer_now(REFUSED_STATUS, _text(refusal), REFUSED_TYPE, NO_RETRY)

    async def after_failure(self, status: int | None, error_text: str) -> None:
        """Once per failed attempt, before the router falls back: drop a Copilot key Copilot
        refused; when GitHub refuses the token too (401), wait for a new token file, so the
        next hop exchanges the new one."""
        if status == 401:
            internals.drop_copilot_key()
            refusal = await asyncio.to_thread(internals.check_key)
        elif MARKER in error_text:
            refusal = self.memo.last(time.monotonic())
        else:
            return
        if refusal is not None and refusal.status == 401:
            await self._new_token(refusal)

    def answer(self, error_text: str) -> Answer | None:
        """The failure hook's answer when a model's call met the refusal (a token refused
        between the check and the call): the same one error."""
        if MARKER not in error_text:
            return None
        refusal = self.memo.last(time.monotonic())
        if refusal is None:  # a new token was taken since: a retry gets through
            return Answer(REFUSED_STATUS, AGAIN)
        return Answer(REFUSED_STATUS, _text(refusal), final=True)

    async def _new_token(self, refusal: Refusal) -> bool:
        """Wait for the token file to change; True when it did."""
        path = await asyncio.to_thread(internals.access_token_file)
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            if internals.token_identity(path) != refusal.token:
                return True
            await asyncio.sleep(_POLL)
        return False


def _text(refusal: Refusal) -> str:
    proxy = settings.section(settings.current(), "proxy")
    return message(refusal, str(proxy.get("namespace") or ""), str(proxy.get("name") or ""))
