"""The MCP part of the LiteLLM config: `mcp_servers` and the semantic tool filter (pure).

Where LiteLLM reads them (docs/upstream.md, "MCP"):
- top-level `mcp_servers: {name: {url, transport, description, allowed_tools}}`;
  a server the operator runs is reached at its Service (mcp_workloads.py); the
  local mode runs it as a child process and sets its `url` to that process's
  loopback address (local/mcp_processes.py);
- `allowed_tools` keeps a read-only filesystem server's write tools from being
  listed or called, on top of its read-only mount;
- `litellm_settings.mcp_semantic_tool_filter` turns LiteLLM's filter on; it
  embeds with a model group of this very proxy, so an embedding group for
  Copilot's text-embedding-3-small is added (with an empty fallback list: an
  embedding request must never climb into the chat chain).
"""

from __future__ import annotations

from typing import Any

from copilot_proxy.core import names
from copilot_proxy.core.mcp_spec import EMBEDDING_MODEL, McpServer
from copilot_proxy.core.spec import ProxySpec

PORT = 8000  # the bridge's port in an MCP server pod
PATH = "/mcp"  # its streamable HTTP endpoint
PROVIDER = "github_copilot"

# The tools of @modelcontextprotocol/server-filesystem that only read.
FILESYSTEM_READ_TOOLS = (
    "read_file",
    "read_text_file",
    "read_media_file",
    "read_multiple_files",
    "list_directory",
    "list_directory_with_sizes",
    "directory_tree",
    "search_files",
    "get_file_info",
    "list_allowed_directories",
)


def endpoint(spec: ProxySpec, server: McpServer) -> str:
    """Where the proxy reaches a server: its own URL, or the Service the operator runs."""
    if server.url:
        return server.url
    service = names.mcp_server(spec.name, server.name)
    return f"http://{service}.{spec.namespace}.svc:{PORT}{PATH}"


def servers(spec: ProxySpec) -> dict[str, Any]:
    """LiteLLM's `mcp_servers`."""
    rendered: dict[str, Any] = {}
    for server in spec.mcp_servers:
        entry: dict[str, Any] = {"url": endpoint(spec, server), "transport": server.transport}
        if server.description:
            entry["description"] = server.description
        if server.preset == "filesystem" and server.read_only:
            entry["allowed_tools"] = list(FILESYSTEM_READ_TOOLS)
        rendered[server.name] = entry
    return rendered


def add_semantic_filter(config: dict[str, Any], spec: ProxySpec) -> None:
    """Turn LiteLLM's MCP semantic tool filter on in `config`, when the spec asks for it."""
    semantic = spec.mcp_semantic_filter
    if not semantic.enabled:
        return
    config["litellm_settings"]["mcp_semantic_tool_filter"] = {
        "enabled": True,
        "embedding_model": EMBEDDING_MODEL,
        "top_k": semantic.top_k,
        "similarity_threshold": semantic.similarity_threshold,
    }
    if any(m.get("model_name") == EMBEDDING_MODEL for m in config["model_list"]):
        return  # already served (e.g. rendered from the account's catalogue)
    config["model_list"].append(
        {
            "model_name": EMBEDDING_MODEL,
            "litellm_params": {"model": f"{PROVIDER}/{EMBEDDING_MODEL}"},
            "model_info": {"mode": "embedding"},
        }
    )
    config["router_settings"]["fallbacks"].append({EMBEDDING_MODEL: []})
