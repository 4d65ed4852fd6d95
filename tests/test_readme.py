"""The README's layout table is the tree: every module of copilot_proxy/ is named in
its folder's row, and every path and module the table names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def layout_rows() -> dict[str, str]:
    """`path` -> the row's text, for the rows of the "Layout" table."""
    section = README.split("## Layout", 1)[1].split("\nWho owns what", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (.*) \|$", section, re.M)
    return dict(rows)


def test_every_path_of_the_table_exists() -> None:
    rows = layout_rows()
    assert "copilot_proxy/core/" in rows
    for path in rows:
        assert (ROOT / path).exists(), f"README names {path}, which does not exist"


def test_every_module_is_named_in_its_folders_row_and_exists() -> None:
    rows = layout_rows()
    for folder, text in rows.items():
        if not folder.startswith("copilot_proxy/") or not folder.endswith("/"):
            continue
        named = set(re.findall(r"`([\w/]+(?:\.py|/))`", text))
        for name in named:
            assert (ROOT / folder / name).exists(), f"{folder}{name} is in the README only"
        if not any(name.endswith(".py") for name in named):
            continue  # a row that describes its folder without listing files
        for module in (ROOT / folder).iterdir():
            if module.suffix == ".py" and module.name != "__init__.py":
                assert module.name in named, f"README's {folder} row misses {module.name}"
            elif module.is_dir() and not module.name.startswith("__"):
                assert f"{module.name}/" in named, f"README's {folder} row misses {module.name}/"


def claude_code_exports() -> dict[str, str]:
    """The `export NAME=value` lines of the README's Claude Code block, comments cut."""
    block = README.split("Claude Code (the start banner", 1)[1].split("```bash", 1)[1]
    block = block.split("```", 1)[0]
    found = re.findall(r"^export (\w+)=(\S+)", block, re.M)
    return dict(found)


def test_readme_gives_claude_code_the_settings_of_the_default_chain() -> None:
    from copilot_proxy.core.claude_code import client_settings
    from copilot_proxy.core.spec import DEFAULT_CHAIN, parse_spec

    spec = parse_spec("copilot", "default", {"models": [{"name": m} for m in DEFAULT_CHAIN]})
    exports = claude_code_exports()
    assert exports.pop("ANTHROPIC_BASE_URL") == "http://localhost:4000"
    assert exports.pop("ANTHROPIC_AUTH_TOKEN") == "$LITELLM_KEY"
    assert exports == dict(client_settings(spec))
