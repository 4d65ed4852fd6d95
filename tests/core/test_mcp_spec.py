"""spec.mcpServers and spec.mcpSemanticFilter: the three kinds of server, their defaults,
and the declarations refused with the field to fix (parse_spec, as the local mode
and the operator see them)."""

from __future__ import annotations

from typing import Any

import pytest

from copilot_proxy.core.mcp_spec import EgressRule, EnvVar, SemanticFilter, Volume
from copilot_proxy.core.spec import ProxySpec, SpecError, parse_spec

DOCS = {"persistentVolumeClaim": {"claimName": "docs"}}


def parse(name: str = "copilot", **fields: Any) -> ProxySpec:
    return parse_spec(name, "default", {"models": [{"name": "gpt-5-mini"}], **fields})


def servers(**declared: Any) -> ProxySpec:
    return parse(mcpServers=declared)


def test_presets_and_commands_are_run_servers_with_their_defaults() -> None:
    files, memory, notes, tool = servers(  # sorted by name
        memory={"preset": "memory"},
        files={"preset": "filesystem", "volume": DOCS, "paths": ["handbook/", "specs/api"]},
        tool={"command": "mcp-weather", "args": ["--units", "metric"]},
        notes={"url": "http://notes:8080/mcp"},
    ).mcp_servers
    assert (memory.kind, memory.runs, memory.volume, memory.read_only) == (
        "memory",
        True,
        None,  # an emptyDir
        False,
    )
    assert files.paths == ("handbook", "specs/api") and files.read_only  # read-only by default
    assert files.volume == Volume(claim="docs")
    assert (tool.command, tool.args, tool.read_only) == (
        "mcp-weather",
        ("--units", "metric"),
        False,
    )
    assert notes.kind == "url" and not notes.runs


def test_env_values_and_secret_references() -> None:
    (server,) = servers(
        tool={
            "command": "x",
            "env": [
                {"name": "MODE", "value": "fast"},
                {"name": "API_KEY", "secretKeyRef": {"name": "weather", "key": "token"}},
            ],
        }
    ).mcp_servers
    assert server.env == (
        EnvVar("MODE", value="fast"),
        EnvVar("API_KEY", secret="weather", key="token"),
    )


def test_egress_and_semantic_filter() -> None:
    spec = parse(
        mcpServers={"tool": {"command": "x", "egress": [{"cidr": "0.0.0.0/0", "ports": [443]}]}},
        mcpSemanticFilter={"enabled": True, "topK": 3, "similarityThreshold": 0},
    )
    assert spec.mcp_servers[0].egress == (EgressRule("0.0.0.0/0", (), (443,)),)
    assert spec.mcp_semantic_filter == SemanticFilter(True, 3, 0.0)
    assert parse().mcp_semantic_filter == SemanticFilter(False, 10, 0.3)  # off by default


@pytest.mark.parametrize(
    ("declared", "field"),
    [
        ({"Memory": {"preset": "memory"}}, "mcpServers.Memory"),
        ({"my-memory": {"preset": "memory"}}, "mcpServers.my-memory"),  # '-' is LiteLLM's sep
        ({"m": {"preset": "memory", "command": "x"}}, "mcpServers.m"),
        ({"m": {"description": "nothing to run"}}, "mcpServers.m"),
        ({"m": {"preset": "git"}}, "mcpServers.m.preset"),
        ({"m": {"preset": "memory", "readOnly": True}}, "mcpServers.m.readOnly"),
        ({"m": {"preset": "memory", "transport": "sse"}}, "mcpServers.m.transport"),
        ({"m": {"url": "http://m", "image": "x"}}, "mcpServers.m.image"),
        ({"m": {"preset": "filesystem", "paths": ["a"]}}, "mcpServers.m.volume"),
        ({"m": {"preset": "filesystem", "volume": {"emptyDir": {}}, "paths": ["a"]}},
         "mcpServers.m.volume"),
        ({"m": {"preset": "filesystem", "volume": DOCS}}, "mcpServers.m.paths"),
        ({"m": {"preset": "filesystem", "volume": DOCS, "paths": ["../etc"]}},
         "mcpServers.m.paths[0]"),
        ({"m": {"preset": "filesystem", "volume": DOCS, "paths": ["/etc"]}},
         "mcpServers.m.paths[0]"),
        ({"m": {"preset": "filesystem", "volume": DOCS, "paths": ["a/./b"]}},
         "mcpServers.m.paths[0]"),
        ({"m": {"preset": "filesystem", "volume": DOCS, "paths": [".", "a"]}},
         "mcpServers.m.paths"),
        ({"m": {"preset": "memory", "volume": {"emptyDir": {}, "persistentVolumeClaim": {}}}},
         "mcpServers.m.volume"),
        ({"m": {"preset": "memory", "volume": {"persistentVolumeClaim": {"claimName": "A_b"}}}},
         "mcpServers.m.volume.persistentVolumeClaim.claimName"),
        ({"m": {"preset": "memory", "env": [{"name": "MEMORY_FILE_PATH", "value": "/etc/x"}]}},
         "mcpServers.m.env[0].name"),
        ({"m": {"command": "x", "env": [{"name": "A", "value": "1", "secretKeyRef": {}}]}},
         "mcpServers.m.env[0]"),
        ({"m": {"command": "x", "env": [{"name": "A", "secretKeyRef": {"name": "s"}}]}},
         "mcpServers.m.env[0].secretKeyRef.key"),
        ({"m": {"command": "x", "egress": [{"cidr": "everywhere"}]}},
         "mcpServers.m.egress[0].cidr"),
        ({"m": {"command": "x", "egress": [{"cidr": "::/0", "ports": [0]}]}},
         "mcpServers.m.egress[0].ports"),
        ({"m": {"command": "x", "egress": [{"cidr": "::/0", "ports": [65536]}]}},
         "mcpServers.m.egress[0].ports"),
        ({"m": {"command": " "}}, "mcpServers.m.command"),
        ({"m": {"command": "x", "args": "--flag"}}, "mcpServers.m.args"),
    ],
)  # fmt: skip
def test_a_wrong_declaration_names_the_field(declared: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        servers(**declared)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"spec.{field}: ")


def test_a_service_name_over_63_characters_is_refused_before_it_reaches_kubernetes() -> None:
    long_proxy = "p" * 40
    parse(long_proxy, mcpServers={"notes": {"url": "http://n/mcp"}})  # no Service: fine
    with pytest.raises(SpecError, match="over 63 characters") as caught:
        parse(long_proxy, mcpServers={"a_very_long_server_name": {"preset": "memory"}})
    assert caught.value.field == "mcpServers.a_very_long_server_name"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"enabled": "yes"}, "mcpSemanticFilter.enabled"),
        ({"topK": 101}, "mcpSemanticFilter.topK"),
        ({"similarityThreshold": 1.5}, "mcpSemanticFilter.similarityThreshold"),
        ({"embeddingModel": "x"}, "mcpSemanticFilter.embeddingModel"),
    ],
)
def test_a_wrong_semantic_filter_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse(mcpSemanticFilter=raw)
    assert caught.value.field == field
