"""spec.mcpSemanticFilter: LiteLLM's MCP semantic tool filter, for real, on the original setup's
servers (the locked npm packages, run as their pods run them).

A chat request that offers the proxy's MCP tools (`{"type": "mcp", "server_url":
"litellm_proxy"}`) reaches Copilot with only the `topK` tools closest to the
last user message, ranked by text-embedding-3-small served by the same proxy
(the fake embeds by words: testkit/fake_github/replies.py). The response says
what was offered (x-litellm-semantic-filter headers). The filter runs on
semantic-router 0.1.16 with the lock's openai 3 (requirements/overrides.txt):
without it LiteLLM logs "semantic-router not installed" and filters nothing,
and these tests fail. A declared server that is down blocks nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from copilot_proxy.core.spec import ProxySpec, parse_spec
from copilot_proxy.local.mcp_processes import McpProcesses, free_port
from testkit.fake_github import FakeGitHub
from testkit.proxy_harness import LiteLLMProxy
from tests.tooling.test_npm_tools import NPM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (NPM / "node_modules" / ".installed").exists(),
        reason="the npm packages are not installed: run `make npm` (make test does)",
    ),
]

TOP_K = 3
MCP_TOOLS = [{"type": "mcp", "server_url": "litellm_proxy", "require_approval": "never"}]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpProcesses]:
    running = McpProcesses(tmp_path_factory.mktemp("mcp"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def proxy_spec(servers: McpProcesses) -> ProxySpec:
    declared = {
        "memory": {"preset": "memory"},
        "files": {
            "preset": "filesystem",
            "volume": {"persistentVolumeClaim": {"claimName": "docs"}},
            "paths": ["shared"],
        },
        # Declared, but nothing listens there: it must hold nothing up.
        "down": {"url": f"http://127.0.0.1:{free_port()}/mcp"},
    }
    raw = {
        "models": [{"name": "gpt-5-mini"}],
        "mcpServers": declared,
        "mcpSemanticFilter": {"enabled": True, "topK": TOP_K},
    }
    spec = servers.localize(parse_spec("test", "default", raw))
    servers.sync()
    assert servers.wait_live()
    return spec


def ask(proxy: LiteLLMProxy, question: str, **extra: Any) -> httpx.Response:
    body = {"model": "gpt-5-mini", "messages": [{"role": "user", "content": question}], **extra}
    answer = httpx.post(
        f"{proxy.url}/v1/chat/completions", headers=proxy.auth_headers, json=body, timeout=120
    )
    assert answer.status_code == 200, answer.text
    return answer


def offered(answer: httpx.Response) -> list[str]:
    """The tools the filter kept, best match first, as the response header says."""
    return answer.headers["x-litellm-semantic-filter-tools"].split(",")


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("Search the knowledge graph for nodes about Ada", "memory-search_nodes"),
        ("Create an entity for Ada in the knowledge graph", "memory-create_entities"),
    ],
)
def test_the_matching_tool_is_offered_first(
    proxy: LiteLLMProxy, upstream: FakeGitHub, question: str, first: str
) -> None:
    answer = ask(proxy, question, tools=MCP_TOOLS)
    tools = offered(answer)
    assert tools[0] == first
    before, _, after = answer.headers["x-litellm-semantic-filter"].partition("->")
    # 9 memory tools and the 10 read tools of the read-only filesystem server -> 3.
    assert int(before) == 19 and int(after) == len(tools) <= TOP_K
    # Copilot is offered those tools and no others.
    (sent,) = upstream.copilot_requests("/chat/completions")
    assert sorted(t["function"]["name"] for t in sent.body["tools"]) == sorted(tools)


def test_a_file_question_is_offered_the_file_reading_tools(proxy: LiteLLMProxy) -> None:
    tools = offered(ask(proxy, "Read the text file handbook.md", tools=MCP_TOOLS))
    assert set(tools[:2]) == {"files-read_file", "files-read_text_file"}
    assert not any(t.startswith("memory-") for t in tools)


def test_the_embeddings_come_from_the_proxys_own_copilot(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    ask(proxy, "Search the knowledge graph for nodes about Ada", tools=MCP_TOOLS)
    (embedded,) = upstream.copilot_requests("/embeddings")  # the question; tools at start
    assert embedded.body["model"] == "text-embedding-3-small"


def test_a_request_without_mcp_tools_is_left_alone(
    proxy: LiteLLMProxy, upstream: FakeGitHub
) -> None:
    answer = ask(proxy, "Hello")
    assert "x-litellm-semantic-filter" not in answer.headers
    assert upstream.copilot_requests("/embeddings") == []
