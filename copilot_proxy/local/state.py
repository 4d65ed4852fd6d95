"""The local mode's state folder (default `.copilot-proxy`): mode 0700, kept out of git.

The auth service's directory store owns the token files; the local mode adds
the master key next to them and the proxy's working files:

    access-token        the GitHub token (0600), written by the login page  [store]
    access-token.json   who signed in, and when                             [store]
    master-key          the proxy's master key (0600), made on the first run
    config.yaml         the LiteLLM config the proxy runs, rendered from the manifest
    github_copilot/     LiteLLM's short-lived Copilot key, emptied before each start
    proxy.log           the proxy's output; login.log: the login page's
    mcp/                the MCP servers' logs and folders (local/mcp_processes.py)
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from copilot_proxy.auth.stores.directory import (
    MASTER_KEY_FILE,
    TOKEN_FILE,
    read_text,
    write_private,
)
from copilot_proxy.core import names
from copilot_proxy.core.claude_code import client_settings
from copilot_proxy.core.keys import generate_master_key
from copilot_proxy.core.spec import ProxySpec

# Keeps a state folder out of git wherever it is (same trick as virtualenv).
GITIGNORE = "# Written by copilot-proxy run: tokens and keys, never commit them.\n*\n"


@dataclass(frozen=True)
class StateDir:
    root: Path

    @property
    def token_file(self) -> Path:
        return self.root / TOKEN_FILE

    @property
    def master_key_file(self) -> Path:
        return self.root / MASTER_KEY_FILE

    @property
    def config_path(self) -> Path:
        return self.root / names.CONFIG_KEY

    @property
    def token_dir(self) -> Path:
        return self.root / "github_copilot"

    @property
    def proxy_log(self) -> Path:
        return self.root / "proxy.log"

    @property
    def login_log(self) -> Path:
        return self.root / "login.log"


def prepare(root: Path) -> StateDir:
    """Create the folder (0700) with its .gitignore; raises OSError when it cannot.

    The StateDir's paths are absolute: the proxy runs in the folder (its working
    directory), so a path relative to ours (the default `.copilot-proxy`) would
    name another file there.
    """
    root = root.expanduser().absolute()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root.chmod(0o700)  # an existing folder may have been created more open
    ignore = root / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE)
    return StateDir(root)


def ensure_master_key(state: StateDir) -> tuple[str, bool]:
    """The proxy's master key, and whether it was just generated (then it is shown once)."""
    key = read_text(state.master_key_file)
    if key:
        return key, False
    key = generate_master_key()
    write_private(state.master_key_file, key + "\n")
    return key, True


def display_host(host: str) -> str:
    """The host name to print in URLs people paste."""
    if host in ("", "127.0.0.1", "0.0.0.0", "::", "::1", "localhost"):  # noqa: S104
        return "localhost"
    return f"[{host}]" if ":" in host else host


def first_run_text(spec: ProxySpec, key: str, proxy_url: str, key_file: Path) -> str:
    """The one-time display of a new master key, with settings ready to paste."""
    primary = spec.chain[0]
    body = shlex.quote(
        f'{{"model": "{primary}", "messages": [{{"role": "user", "content": "Hello"}}]}}'
    )
    lines = [
        f"New master key (shown only now, kept in {key_file}):",
        f"  {key}",
        "",
        "Try the proxy once it is up:",
        f"  curl {proxy_url}/v1/chat/completions \\",
        f'    -H "Authorization: Bearer {key}" \\',
        '    -H "Content-Type: application/json" \\',
        f"    -d {body}",
        "",
        f"Claude Code (the base URL has no /v1; models: {', '.join(spec.chain)};"
        f" small/fast model: {spec.small_model}):",
        f"  export ANTHROPIC_BASE_URL={proxy_url}",
        f"  export ANTHROPIC_AUTH_TOKEN={key}",
        *(f"  export {name}={value}" for name, value in client_settings(spec)),
    ]
    return "\n".join(lines)


def later_run_text(key_file: Path) -> str:
    return f"Master key: in {key_file} (cat it; it also unlocks the login page)"
