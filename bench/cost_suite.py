"""5. cost: what a Claude Code session costs through the proxy, against the ideal client.

- A scripted session shaped like Claude Code's (its system prompt with cache
  marks, a dozen tools, `claude-cli` User-Agent): three prompts, each making
  one tool call, and the session-title side request. Through the proxy, and
  the same requests sent straight to the fake Copilot by a client that sets
  `X-Initiator` ideally (it knows which request a human started): the physical
  limit. Also straight without `X-Initiator` (what LiteLLM 1.108.7 alone sends:
  Copilot bills every request as a premium request). Figures: premium
  requests and AI credits, as the fake Copilot bills them (2026 prices).
- The real Claude Code CLI, when installed (testkit/claude_code.py): one prompt
  with one tool call in `claude -p`, and interactively (title request
  included) in tmux: premium requests per prompt; the ideal is 1.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx

from bench.report import Report, Row, ratio
from copilot_proxy.core.claude_code import client_settings
from testkit.claude_code import PROMPT_MARK, Interactive, binary, run_print
from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy

SUITE = "5. cost"
MODEL, ASKED = "claude-opus-4.6", "claude-opus-4-6"  # Copilot's id, Claude Code's spelling
CLAUDE_CODE_AGENT = "claude-cli/2.1.332 (external, cli)"
SYSTEM = [
    {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332;"},
    {
        "type": "text",
        "text": "You are Claude Code. " + "Follow the repository's rules. " * 900,
        "cache_control": {"type": "ephemeral"},
    },
]
TOOLS = [
    {
        "name": name,
        "description": f"The {name} tool. " + "It does what its name says. " * 20,
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
    }
    for name in ("Agent", "Bash", "Edit", "Glob", "Grep", "Read", "Skill", "Write", "WebFetch")
]
PROMPTS = [
    "Use Bash to list the files.",
    "Use Bash to count the lines of the README.",
    "Use Bash to run the tests.",
]
TITLE_FORMAT = {"type": "json_schema", "schema": {"type": "object"}}
MARK = {"cache_control": {"type": "ephemeral"}}

MARKER = {"command": "echo ran > marker.txt", "description": "Leave a marker file"}
Send = Callable[[dict[str, Any], str], Any]  # (request body, its true initiator) -> Message


def _session(send: Send) -> None:
    """Claude Code's requests for the three prompts, the title request first."""
    title = f"<session>\n{PROMPTS[0]}\n</session>\n\nWrite the title."
    send(
        {
            "system": [*SYSTEM[:1], {"type": "text", "text": "You are naming a session."}],
            "messages": [{"role": "user", "content": title}],
            "tools": [],
            "output_config": {"format": TITLE_FORMAT},
        },
        "agent",
    )
    history: list[dict[str, Any]] = []
    for prompt in PROMPTS:
        history.append({"role": "user", "content": [_text(prompt, cached=True)]})
        answer = send({"system": SYSTEM, "tools": TOOLS, "messages": history}, "user")
        call = next(b for b in answer.content if b.type == "tool_use")
        history.append({"role": "assistant", "content": [_block(b) for b in answer.content]})
        result = {"type": "tool_result", "tool_use_id": call.id, "content": "done"}
        history.append({"role": "user", "content": [{**result, **MARK}]})
        answer = send({"system": SYSTEM, "tools": TOOLS, "messages": history}, "agent")
        history.append({"role": "assistant", "content": [_block(b) for b in answer.content]})
        for message in history:  # Claude Code keeps one cache mark: on the newest message
            for block in message["content"]:
                block.pop("cache_control", None)


def _text(text: str, cached: bool) -> dict[str, Any]:
    return {"type": "text", "text": text, **(MARK if cached else {})}


def _block(block: Any) -> dict[str, Any]:
    """An answer's content block, as the client sends it back."""
    data: dict[str, Any] = block.model_dump(exclude_none=True)
    return data


def _sender(client: anthropic.Anthropic, model: str, ideal: bool | None) -> Send:
    """Streams each request as Claude Code does; `ideal` sets X-Initiator from the truth,
    False leaves it out, None lets the proxy decide."""

    def send(body: dict[str, Any], initiator: str) -> Any:
        headers = {"X-Initiator": initiator} if ideal else {}
        extra = {"output_config": body.pop("output_config")} if "output_config" in body else None
        with client.messages.stream(
            model=model, max_tokens=32000, extra_headers=headers, extra_body=extra, **body
        ) as stream:
            return stream.get_final_message()

    return send


def _bill(gh: FakeGitHub, run: Callable[[], None]) -> tuple[int, float, int]:
    """(premium requests, AI credits, requests) of one run from a cold prompt cache."""
    gh.reset()
    run()
    return gh.premium_requests(), gh.credits(), len(gh.bills)


def _scripted(gh: FakeGitHub, proxy: LiteLLMProxy, report: Report) -> None:
    key = gh_key(gh)
    direct = {"authorization": f"Bearer {key}", "editor-version": "vscode/1.95.0"}
    straight = anthropic.Anthropic(base_url=gh.url, api_key="-", default_headers=direct)
    through = anthropic.Anthropic(
        base_url=proxy.url,
        api_key=proxy.master_key,
        default_headers={"User-Agent": CLAUDE_CODE_AGENT},
        max_retries=0,
    )
    runs = {
        "ideal client": _bill(gh, lambda: _session(_sender(straight, MODEL, True))),
        "proxy": _bill(gh, lambda: _session(_sender(through, ASKED, None))),
        "no X-Initiator": _bill(gh, lambda: _session(_sender(straight, MODEL, False))),
    }
    premium, credits, requests = runs["ideal client"]
    what = f"{len(PROMPTS)} prompts, {len(PROMPTS)} tool calls, 1 title: {requests} requests"
    for subject, (p, _, _) in runs.items():
        vs_ideal = {"ideal client": ratio(p, premium)}
        report.add(Row(SUITE, f"premium requests, session ({what})", subject, vs_ideal, str(p)))
    for subject, (_, c, _) in runs.items():
        vs_ideal = {"ideal client": ratio(c, credits)}
        metric = "AI credits, the same session (2026 prices, prompt cache)"
        report.add(Row(SUITE, metric, subject, vs_ideal, f"{c:.2f}"))


def gh_key(gh: FakeGitHub) -> str:
    """A Copilot key, as LiteLLM gets one, for the client that calls the fake directly."""
    answer = httpx.get(
        f"{gh.url}/copilot_internal/v2/token",
        headers={"authorization": f"token {gh.default_token}"},
    )
    return str(answer.json()["token"])


def _cli(gh: FakeGitHub, proxy: LiteLLMProxy, report: Report) -> None:
    cli = binary()
    if cli is None:
        report.facts["5. cost, Claude Code CLI"] = "not installed (make npm): not measured"
        return
    settings = dict(client_settings(proxy.spec))
    prompt = "Use Bash to leave a marker file."
    work = Path(tempfile.mkdtemp(prefix="bench-claude-"))
    try:
        gh.reset()
        gh.tool_args["Bash"] = MARKER
        run_print(cli, prompt, proxy.url, proxy.master_key, cwd=work, env=settings)
        _cli_row(report, "claude -p", gh)
        if shutil.which("tmux"):
            gh.reset()
            gh.tool_args["Bash"] = MARKER
            with Interactive(cli, proxy.url, proxy.master_key, cwd=work, env=settings) as ui:
                ui.wait_for(PROMPT_MARK)
                ui.send(prompt)
                ui.wait_for("Hello from")
                deadline = time.monotonic() + 20
                while len(gh.bills) < 3 and time.monotonic() < deadline:
                    time.sleep(0.1)
            _cli_row(report, "interactive (tmux)", gh)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cli_row(report: Report, mode: str, gh: FakeGitHub) -> None:
    """The proxy's figure, and what the same requests cost without X-Initiator (every one a
    premium request: LiteLLM alone). The ideal is one premium request per prompt."""
    metric = f"premium requests per Claude Code prompt with one tool call, {mode}"
    requests, premium = len(gh.bills), gh.premium_requests()
    note = f"{requests} upstream requests, {gh.credits():.2f} AI credits"
    report.add(
        Row(SUITE, metric, "proxy", {"ideal client": ratio(premium, 1)}, str(premium), note=note)
    )
    report.add(
        Row(SUITE, metric, "no X-Initiator", {"ideal client": ratio(requests, 1)}, str(requests))
    )


def run(report: Report) -> None:
    spec = {"models": [{"name": m} for m in (MODEL, "gemini-3-pro-preview", "gpt-5-mini")]}
    with FakeGitHub() as gh, LiteLLMProxy(spec, upstream=gh.url, token=gh.default_token) as proxy:
        _scripted(gh, proxy, report)
        _cli(gh, proxy, report)
