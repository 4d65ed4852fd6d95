"""docs/local.md stays true: commands parse, manifests exist, the file table is the folder's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from copilot_proxy.auth.stores.directory import META_FILE
from copilot_proxy.cli import parser
from copilot_proxy.local.state import StateDir

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "local.md").read_text()


def code_lines() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", DOC, flags=re.S)
    return [line.split("#")[0].strip() for b in blocks for line in b.splitlines()]


def test_documented_commands_parse() -> None:
    commands = [line for line in code_lines() if line.startswith(".venv/bin/copilot-proxy ")]
    assert len(commands) >= 3
    for line in commands:
        args = parser().parse_args(shlex.split(line)[1:])
        assert Path(ROOT / args.file).exists(), line


def test_make_run_takes_a_manifest() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "MANIFEST ?= examples/copilotproxy.yaml" in makefile
    assert "make run MANIFEST=" in DOC


def test_the_file_table_is_the_state_folder() -> None:
    state = StateDir(Path("s"))
    files = {
        p.name
        for p in (
            state.token_file,
            state.master_key_file,
            state.config_path,
            state.token_dir,
            state.proxy_log,
            state.login_log,
        )
    }
    table = set(re.findall(r"^\| `([^`/]+)/?`", DOC, flags=re.M))
    assert files | {META_FILE} <= table
