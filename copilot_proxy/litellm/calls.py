"""The client requests still running, by LiteLLM call id: who started each and what it asked.

Every upstream attempt of a request (fallback hops, bridges to another API) is
one call id; each sends the initiator decided once for the request, and the
request log line names the model the client asked for even when the hook
mapped a Claude Code name to a model of the chain. A request that never ends
(a client gone mid-stream) is forgotten after `limit` newer ones.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from copilot_proxy.litellm.initiator import Initiator

MAX_TRACKED = 4096


@dataclass(frozen=True)
class Call:
    initiator: Initiator
    asked: str  # the model name the client sent


class Calls:
    def __init__(self, limit: int = MAX_TRACKED) -> None:
        self.limit = limit
        self._calls: OrderedDict[str, Call] = OrderedDict()

    def start(self, call_id: object, call: Call) -> None:
        if not isinstance(call_id, str):
            return
        self._calls[call_id] = call
        self._calls.move_to_end(call_id)
        while len(self._calls) > self.limit:
            self._calls.popitem(last=False)

    def get(self, call_id: object) -> Call | None:
        return self._calls.get(call_id) if isinstance(call_id, str) else None

    def end(self, call_id: object) -> Call | None:
        return self._calls.pop(call_id, None) if isinstance(call_id, str) else None
