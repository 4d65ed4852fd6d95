"""`request_logger`: the callback LiteLLM loads (render.REQUEST_LOGGER in its config).

Loaded inside the `litellm` proxy process (same image as the operator). It:
- sends an honest `X-Initiator` (`user` only when the request starts a human
  turn: initiator.py) with Copilot's own headers on every upstream attempt,
  fallback hops and bridges included;
- serves Claude Code's model names (`claude-opus-4-6`, haiku-class ids) with
  the chain's matching model (core/claude_code.py);
- logs one line per request (request_line.py) with its tokens and the AI
  credits Copilot said it cost (usage.py, read off the answers' bytes by
  internals.tee_copilot_usage), and counts them on `/metrics` (metrics.py);
- cools down a model that answered 402 or 429 for as long as Copilot says, with
  a log line and metrics (limits.py, cooldowns.py: the only source of
  cooldowns, LiteLLM's own are off);
- answers a request whose whole chain failed with one error that names each
  model of the chain and why it failed or was skipped, and a request whose
  every model is cooling down at once, with when each is back (failures.py);
- skips a model whose prompt window is too small for the request before any
  upstream call, and answers 400 when none fits (limits.py, context.py);
- refuses embedding (and other non-chat) requests for names the catch-all
  would send to a chat model (embeddings.py);
- counts tokens for Claude with Copilot's own count (count_tokens.py);
- drops LiteLLM's cached Copilot key when Copilot answers 401, so the next
  attempt (the fallback hop) fetches a fresh one (with a new token, if any);
- answers one 503 when GitHub refuses the proxy's credential, before any model
  is tried: they all share it (credential_gate.py);
- answers 401 to a wrong client key (LiteLLM says 400 "No connected db." on a
  proxy without a database);
- keeps a route's hop groups (`fast#gpt-5-mini`, see render.py) internal:
  hidden from the model listings, refused when a client names one, and shown
  as their model in the log line and in `x-litellm-model-group` (routing.py).
  One case LiteLLM decides after this hook: a /v1/messages stream that falls
  back after its first bytes sends the hop group's name in that header.
Loading it also puts exposure.Gate in front of the proxy: 404 for every
route clients and probes do not use, no header naming the upstream URL.
Each method only gathers what LiteLLM hands it and delegates to those pure
modules; what it reaches of LiteLLM beyond its arguments is in internals/.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

from copilot_proxy.core.claude_code import serving_model
from copilot_proxy.litellm import (
    count_tokens,
    embeddings,
    initiator,
    internals,
    metrics,
    request_line,
    routing,
    settings,
)
from copilot_proxy.litellm.calls import Call, Calls
from copilot_proxy.litellm.credential_gate import NO_RETRY, CredentialGate
from copilot_proxy.litellm.exposure import Gate
from copilot_proxy.litellm.failures import (
    COOLDOWN_STATUSES,
    Answer,
    Attempts,
    Failure,
    all_failed,
    model_id,
)
from copilot_proxy.litellm.limits import Limits
from copilot_proxy.litellm.request_line import Served
from copilot_proxy.litellm.routing import RouterView
from copilot_proxy.litellm.usage import Ledger, Usage, tokens

_BAD_KEY = (
    "Invalid API key: send this proxy's key as 'Authorization: Bearer <key>' "
    "(or 'x-api-key: <key>' from Anthropic clients)."
)


class RequestLogger(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        internals.fail_otel_import_fast()  # the proxy loads this callback before any request
        internals.install_gate(Gate)  # only the routes clients use (exposure.py)
        self.log = request_line.make_logger()
        self.attempts = Attempts()  # the failed hops of requests still running
        self.limits = Limits(self.log, self.attempts)
        count_tokens.install()
        self.calls = Calls()  # who started each running request, what it asked for
        self.ledger = Ledger()  # the AI credits of each running request's answers
        internals.tee_copilot_usage(self.ledger.charged)
        internals.mount_metrics()
        self.credential = CredentialGate()  # watches LiteLLM's key exchange

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: Any
    ) -> dict[str, Any]:
        """Refuse a hop group by name and a non-chat request the catch-all would serve. Serve
        a Claude Code model name with the chain's model; decide who started the request;
        answer at once when every model the request may use is cooling down."""
        asked, view = str(data.get("model") or "-"), internals.router_view()
        refusal = routing.hop_refusal(asked) or embeddings.refusal(
            call_type, data.get("model"), view.names, embeddings.served_embeddings(view.model_list)
        )
        if refusal is not None:
            raise HTTPException(status_code=400, detail=refusal)
        mapped = serving_model(asked, view.names, settings.small_model())
        if mapped is not None:
            data["model"] = mapped
        who = initiator.of_request(call_type, data, internals.client_headers(data))
        self.calls.start(data.get("litellm_call_id"), Call(who, asked))
        self.limits.refuse_if_unavailable(asked, mapped or asked, view)
        await self.credential.refuse_if_refused(call_type)
        return data

    async def async_filter_deployments(
        self,
        model: str,
        healthy_deployments: list[Any],
        messages: Any,
        request_kwargs: dict[str, Any] | None = None,
        parent_otel_span: Any = None,
    ) -> list[Any]:
        """Drop the deployments whose prompt window the request exceeds."""
        kwargs = request_kwargs or {}
        return await self.limits.fitting(model, healthy_deployments, messages, kwargs)

    async def async_pre_call_deployment_hook(
        self, kwargs: dict[str, Any], call_type: Any
    ) -> dict[str, Any]:
        """Once per upstream attempt: Copilot's headers with the request's `X-Initiator` and a
        fresh request id, by which the attempt's AI credits are found in its answer."""
        call_id = kwargs.get("litellm_call_id")
        call = self.calls.get(call_id)
        who = call.initiator if call else initiator.of_request(call_type, kwargs, {})
        request_id = str(uuid.uuid4())
        if isinstance(call_id, str):
            self.ledger.attempt(call_id, request_id)
        headers = internals.copilot_headers(who, request_id)
        kwargs["extra_headers"] = {**(kwargs.get("extra_headers") or {}), **headers}
        return kwargs

    async def async_filter_listed_models(
        self, user_api_key_dict: Any, model_names: Sequence[str]
    ) -> Sequence[str]:
        return [name for name in model_names if not routing.is_hop(name)]

    async def async_post_call_response_headers_hook(
        self,
        data: dict[str, Any],
        user_api_key_dict: Any,
        response: object,
        request_headers: dict[str, str] | None = None,
        litellm_call_info: dict[str, object] | None = None,
    ) -> dict[str, str] | None:
        """Name the model behind a hop group in `x-litellm-model-group` (clients read it)."""
        headers = internals.extra_headers(response)
        group = headers.get(internals.GROUP_HEADER) if headers is not None else None
        if group is None:
            group = internals.logged_model_group(data)
        if not isinstance(group, str) or not routing.is_hop(group):
            return None
        shown = routing.shown(group)
        if headers is not None:
            # A stream that fell back stamps this value as `model` on each chunk.
            headers[internals.GROUP_HEADER] = shown
        return {internals.GROUP_HEADER: shown}

    async def async_post_call_failure_deployment_hook(
        self,
        request_data: Mapping[str, object],
        exception: Exception,
        call_type: Any,
        fallback_depth: int | None = None,
    ) -> None:
        """Once per failed upstream attempt, awaited before the router falls back."""
        if internals.is_router_refusal(exception):
            return
        data: Mapping[str, Any] = request_data
        error = internals.error_of(exception)
        failure, call_id = Failure.of(data.get("model"), error), data.get("litellm_call_id")
        if isinstance(call_id, str):
            self.attempts.add(call_id, failure)
        if failure.status in COOLDOWN_STATUSES:
            self.limits.cool_down(data, exception, failure)
        else:  # a refused Copilot key or GitHub token (credential_gate.py)
            await self.credential.after_failure(failure.status, error.text)

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        slo = kwargs.get("standard_logging_object") or {}
        meta = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        group = str(slo.get("model_group") or meta.get("model_group") or kwargs.get("model"))
        call = self.calls.end(kwargs.get("litellm_call_id"))
        asked = call.asked if call else str(meta.get("original_model_group") or group)
        route = meta.get("user_api_key_request_route") or slo.get("call_type") or "-"
        ms = request_line.millis(start_time, end_time)
        tool = request_line.mcp_tool(asked)
        if tool is not None:
            self.log.info(request_line.mcp_line(route, tool, ms))
            return
        # Hops skipped while cooling down are only in LiteLLM's own record.
        hops = meta.get("previous_models") or ()
        router = internals.router_view() if hops else RouterView()
        skipped = [
            model_id(hop.get("model") or routing.group_model(router, hop.get("model_group")))
            for hop in hops
        ]
        failures = self.attempts.pop(kwargs.get("litellm_call_id"))
        self.limits.counts.pop(kwargs.get("litellm_call_id"))
        failed = request_line.failed_before([f.model for f in failures], skipped)
        upstream = model_id(slo.get("model"))
        who = call.initiator if call else initiator.USER
        used = Usage(*tokens(slo), self.ledger.settle(kwargs.get("litellm_call_id")))
        metrics.record(settings.section(settings.current(), "proxy"), upstream, who, used)
        served = Served(
            route=route,
            asked=asked,
            served=routing.shown(group),
            upstream=upstream,
            failed=failed,
            stream=bool(slo.get("stream")),
            ms=ms,
            initiator=who,
            cost=used.describe(),
        )
        self.log.info(request_line.served_line(served))

    async def async_post_call_failure_hook(
        self,
        request_data: dict[str, Any],
        original_exception: Exception,
        user_api_key_dict: Any,
        traceback_str: str | None = None,
    ) -> HTTPException | None:
        """Once per failed client request: log it and make the error say what happened."""
        meta = request_data.get("metadata") or {}
        route = getattr(user_api_key_dict, "request_route", None) or meta.get(
            "user_api_key_request_route"
        )
        call_id = request_data.get("litellm_call_id")
        call = self.calls.end(call_id)
        self.ledger.settle(call_id)
        asked = call.asked if call else str(request_data.get("model") or "-")
        served = str(request_data.get("model") or asked)  # a Claude Code name mapped
        failures = self.attempts.pop(call_id)
        too_long = self.limits.too_long(asked, call_id, original_exception)
        if too_long is not None:
            status, answer = self._reply(original_exception, too_long)
        else:
            status, answer = self._answer(asked, served, original_exception, failures)
        # The reason is read after _answer, which may have rewritten the message.
        reason = internals.error_of(original_exception).reason
        line = request_line.failed_line(
            route or "-", asked, [f.model for f in failures], status or "-", reason
        )
        self.log.info(line)
        return answer

    def _answer(
        self, asked: str, served: str, exc: Exception, failures: list[Failure]
    ) -> tuple[int | None, HTTPException | None]:
        """The status the client gets, and the error to answer instead of LiteLLM's, if any."""
        if internals.is_wrong_client_key(exc):
            return 401, HTTPException(status_code=401, detail=_BAD_KEY)
        if internals.is_missing_client_key(exc):
            return 401, None
        error = internals.error_of(exc)
        refused = self.credential.answer(error.text)
        if refused is not None:
            return self._reply(exc, refused)
        status = error.status
        if failures or internals.is_router_refusal(exc):
            view = internals.router_view()
            chain = routing.chain(view, served)
            skipped = self.limits.cooldowns.skipped(time.monotonic())
            answer = self.limits.unavailable(asked, served, view) or all_failed(
                asked, status, chain, failures, skipped
            )
            if answer is not None:
                return self._reply(exc, answer)
        return status, None

    @staticmethod
    def _reply(exc: Exception, answer: Answer) -> tuple[int | None, HTTPException | None]:
        """Answer `answer` instead of LiteLLM's error (/v1/messages sends the exception's own
        status and message, the other routes the HTTPException)."""
        internals.set_message(exc, answer.detail)
        internals.set_status(exc, answer.status)
        # No retry helps these (no client should loop); the all-cooling one says when to come back.
        when = {"retry-after": str(answer.retry_after)} if answer.retry_after else {}
        headers = {**when, **NO_RETRY} if answer.retry_after or answer.final else None
        return answer.status, HTTPException(answer.status, answer.detail, headers=headers)


request_logger = RequestLogger()
