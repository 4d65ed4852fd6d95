"""Token store on disk, for running without a cluster (`copilot-proxy run`).

Each proxy has a directory (mode 0700) holding, all mode 0600:
- `access-token`: the GitHub token, plain text, what LiteLLM reads through
  GITHUB_COPILOT_ACCESS_TOKEN_FILE (or as `access-token` of its
  GITHUB_COPILOT_TOKEN_DIR when that is the same directory);
- `access-token.json`: who signed in and when (never the token);
- `master-key`: the proxy's master key, written by the local mode; it unlocks
  the page.
Files are replaced atomically, so LiteLLM never reads half a token.

A proxy whose token a GitHub App provides (`LocalProxy.app`, issue 15) is
never signed out here (the login service refuses its sign-in): the local run
mints its installation token and stores it with `write_app_token`, which also
notes the organisation, the expiry and the next renewal in `access-token.json`
for the page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from copilot_proxy.auth.stores import apps
from copilot_proxy.auth.stores.protocol import (
    AppCredential,
    ProxyInfo,
    ProxyRef,
    StoreError,
    TokenInfo,
)
from copilot_proxy.core.timestamps import rfc3339

TOKEN_FILE = "access-token"
META_FILE = "access-token.json"
MASTER_KEY_FILE = "master-key"
# The Copilot key LiteLLM derived from the previous token: stale once the token changes.
LITELLM_KEY_FILE = "api-key.json"
LOCAL_NAMESPACE = "local"


@dataclass(frozen=True)
class LocalProxy:
    name: str
    directory: Path
    namespace: str = LOCAL_NAMESPACE
    github_host: str = "github.com"
    github_api_url: str = ""
    # The App the manifest declares (issuer, installation id); None: device flow.
    app: AppCredential | None = None

    @property
    def ref(self) -> ProxyRef:
        return ProxyRef(self.namespace, self.name)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, atomically (temp file + rename)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def meta_fields(text: str) -> dict[str, str]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v or "") for k, v in data.items()} if isinstance(data, dict) else {}


def read_meta(text: str) -> tuple[str, str]:
    data = meta_fields(text)
    return data.get("login", ""), data.get("updatedAt", "")


def app_state(app: AppCredential, meta: dict[str, str]) -> AppCredential:
    """The App credential with what the local run noted of the token it minted."""
    if not meta.get("expiresAt"):
        return app
    renew = meta.get("renewAt") or apps.renew_time(meta.get("updatedAt", ""), meta["expiresAt"])
    return dataclasses.replace(
        app,
        account=meta.get("login") or app.account,
        expires_at=meta["expiresAt"],
        renew_at=renew or app.renew_at,
    )


class DirectoryStore:
    kind = "directory"

    def __init__(self, proxies: Sequence[LocalProxy]) -> None:
        self.proxies = {p.ref: p for p in proxies}

    @classmethod
    def single(cls, directory: Path | str, name: str = "local") -> DirectoryStore:
        return cls([LocalProxy(name=name, directory=Path(directory))])

    def _proxy(self, ref: ProxyRef) -> LocalProxy | None:
        return self.proxies.get(ref)

    def _info(self, proxy: LocalProxy) -> ProxyInfo:
        present = bool(read_text(proxy.directory / TOKEN_FILE))
        meta = meta_fields(read_text(proxy.directory / META_FILE)) if present else {}
        login, updated = meta.get("login", ""), meta.get("updatedAt", "")
        return ProxyInfo(
            ref=proxy.ref,
            token_location=str(proxy.directory / TOKEN_FILE),
            token=TokenInfo(present=present, login=login, updated_at=updated),
            github_host=proxy.github_host,
            github_api_url=proxy.github_api_url,
            app=app_state(proxy.app, meta) if proxy.app else None,
        )

    def list_proxies(self) -> list[ProxyInfo]:
        return [self._info(p) for _, p in sorted(self.proxies.items())]

    def get_proxy(self, ref: ProxyRef) -> ProxyInfo | None:
        proxy = self._proxy(ref)
        return self._info(proxy) if proxy else None

    def read_token(self, ref: ProxyRef) -> str:
        proxy = self._proxy(ref)
        return read_text(proxy.directory / TOKEN_FILE) if proxy else ""

    def master_key(self, ref: ProxyRef) -> str:
        proxy = self._proxy(ref)
        return read_text(proxy.directory / MASTER_KEY_FILE) if proxy else ""

    def write_token(self, ref: ProxyRef, token: str, login: str, when: datetime) -> None:
        """Store a token. The page never calls this for an App-backed proxy (the manager
        refuses its sign-in); the local run may, but write_app_token also keeps the expiry."""
        proxy = self._require(ref)
        self._store(proxy, token, {"login": login, "updatedAt": rfc3339(when)})

    def write_app_token(
        self,
        ref: ProxyRef,
        token: str,
        account: str,
        minted: datetime,
        expires: datetime,
        renew: datetime | None = None,
    ) -> None:
        """Store an installation token the local run minted for App-backed proxy `ref`;
        `account` is the organisation it is installed on (and billed)."""
        proxy = self._require(ref)
        if proxy.app is None:
            raise StoreError(f"Proxy {ref.id} declares no GitHub App; nothing was stored.")
        meta = {"login": account, "updatedAt": rfc3339(minted), "expiresAt": rfc3339(expires)}
        if renew is not None:
            meta["renewAt"] = rfc3339(renew)
        self._store(proxy, token, meta)

    def _store(self, proxy: LocalProxy, token: str, meta: dict[str, str]) -> None:
        try:
            write_private(proxy.directory / TOKEN_FILE, token)
            write_private(proxy.directory / META_FILE, json.dumps(meta) + "\n")
            self._forget_copilot_key(proxy)
        except OSError as error:
            raise StoreError(f"Could not write {proxy.directory}: {error.strerror}") from None

    def clear_token(self, ref: ProxyRef) -> None:
        proxy = self._signs_in(ref)
        try:
            for name in (TOKEN_FILE, META_FILE):
                with contextlib.suppress(FileNotFoundError):
                    (proxy.directory / name).unlink()
            self._forget_copilot_key(proxy)
        except OSError as error:
            raise StoreError(f"Could not clear {proxy.directory}: {error.strerror}") from None

    def check(self) -> None:
        for proxy in self.proxies.values():
            d = proxy.directory
            if d.exists() and not (d.is_dir() and os.access(d, os.W_OK)):
                raise StoreError(f"{d} is not a writable directory")

    def _require(self, ref: ProxyRef) -> LocalProxy:
        proxy = self._proxy(ref)
        if proxy is None:
            raise StoreError(f"No proxy {ref.id} here.")
        return proxy

    def _signs_in(self, ref: ProxyRef) -> LocalProxy:
        """The proxy `ref` if a person's sign-in provides its token, else StoreError."""
        proxy = self._require(ref)
        if proxy.app is not None:
            managed = apps.managed(f"Proxy {ref.id}", proxy.app, "copilot-proxy run")
            raise StoreError(f"{managed} Nothing was changed.")
        return proxy

    @staticmethod
    def _forget_copilot_key(proxy: LocalProxy) -> None:
        with contextlib.suppress(FileNotFoundError):
            (proxy.directory / LITELLM_KEY_FILE).unlink()
