"""LiteLLM's github_copilot Authenticator (llms/github_copilot/authenticator.py): the key exchange.

What LiteLLM 1.108.7 does (read off its source, checked by tests/litellm/test_internals.py):
- `get_access_token` opens GITHUB_COPILOT_ACCESS_TOKEN_FILE at every key exchange (no copy
  in memory), so a token file replaced in place (kubelet's swap of a Secret volume, the
  local mode's atomic rename) is what the next exchange sends;
- `get_api_key` keeps the Copilot key in `api_key_file` until its `expires_at`, whatever
  token it came from;
- `_refresh_api_key` asks three times even when GitHub refused the token, then raises a 401
  that has lost GitHub's status and message.

watch_credential replaces both methods, once, on the class (every provider makes its own
Authenticator):
- `_refresh_api_key`: one exchange, asked again only after a network error or a 5xx; the
  key is stamped with the token file it came from; a 401/403 raises CredentialRefused with
  GitHub's status and message, remembered in the Memo and written to REFUSED_FILE in the
  token folder (the local mode mints a new App token at once on it);
- `get_api_key`: drops a key that came from another token file (a rotation) or that is past
  its refresh point, and answers a refusal still standing for this token file at once;
- `get_api_base` reads the key file under the same lock as the exchange that writes it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from copilot_proxy.litellm.credential import (
    REFUSAL_STATUSES,
    REFUSED_STATUS,
    REFUSED_TEXT,
    Memo,
    Refusal,
    TokenId,
    reason_of,
)

REFUSED_FILE = "credential-refused.json"  # in GITHUB_COPILOT_TOKEN_DIR, next to the key
STAMP = "copilot_proxy"  # our field in LiteLLM's api-key.json
KEY_MARGIN = 60.0  # seconds before expires_at a key is renewed (at most a quarter of its life)
ATTEMPTS = 3
_log = logging.getLogger("copilot_proxy.credential")
_lock = threading.Lock()  # one exchange at a time: concurrent requests share its key


class CredentialRefused(Exception):
    """GitHub refused the token at the Copilot key exchange."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{REFUSED_TEXT} ({refusal.status}: {refusal.reason})")
        self.refusal = refusal
        self.status_code = REFUSED_STATUS
        self.message = str(self)


def token_identity(path: str | os.PathLike[str]) -> TokenId:
    """Which token file is there now (device, inode, mtime, size; empty when none): a
    replaced file is another inode, a rewritten one another mtime."""
    try:
        st = os.stat(path)  # follows kubelet's ..data symlinks to the file itself
    except OSError:
        return ()
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def stamp(token: TokenId, fetched_at: float) -> dict[str, Any]:
    """Our mark on a Copilot key in LiteLLM's api-key.json: the token file it came from."""
    return {STAMP: {"token": list(token), "fetched_at": fetched_at}}


def key_is_stale(info: dict[str, Any], token: TokenId, now: float) -> bool:
    """A cached key that came from another token file, or is past its refresh point (Copilot's
    `refresh_in` after it was fetched, else a margin before `expires_at`)."""
    stamp = info.get(STAMP)
    if not isinstance(stamp, dict) or tuple(stamp.get("token") or ()) != token:
        return True
    return now >= refresh_point(info)


def refresh_point(info: dict[str, Any]) -> float:
    """When a stamped key is renewed: Copilot's `refresh_in` after it was fetched, else a
    margin (at most a quarter of its life) before `expires_at`."""
    stamp = info.get(STAMP)
    fetched = float((stamp if isinstance(stamp, dict) else {}).get("fetched_at") or 0.0)
    expires = float(info.get("expires_at") or 0.0)
    refresh_at = expires - min(KEY_MARGIN, max(expires - fetched, 0.0) / 4)
    refresh_in = info.get("refresh_in")
    if isinstance(refresh_in, int | float) and refresh_in > 0:
        refresh_at = min(refresh_at, fetched + float(refresh_in))
    return refresh_at


# The last key get_api_key handed out: its token file and key file as they were, and when
# it is renewed. While both files are unchanged and that time has not come, a request
# needs no key lookup (two JSON reads and a thread hop: ~5% of the proxy's CPU).
_fresh: dict[str, Any] = {}


def known_key(now: float) -> str | None:
    """The key get_api_key last returned while it still stands (cheap: two stat calls)."""
    known = dict(_fresh)
    if (
        known
        and now < known["refresh_at"]
        and token_identity(known["token_file"]) == known["token"]
        and token_identity(known["key_file"]) == known["key"]
    ):
        return str(known["api_key"])
    return None


def key_known_fresh(now: float) -> bool:
    return known_key(now) is not None


def _remember_fresh(auth: Any, token: TokenId) -> None:
    try:
        info = json.loads(Path(auth.api_key_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = None
    _fresh.clear()
    if isinstance(info, dict) and not key_is_stale(info, token, time.time()):
        key = token_identity(auth.api_key_file)
        _fresh.update(token_file=auth.access_token_file, token=token, key_file=auth.api_key_file)
        _fresh.update(key=key, refresh_at=refresh_point(info), api_key=str(info.get("token")))


def watch_credential(memo: Memo) -> None:
    from litellm.llms.github_copilot.authenticator import Authenticator

    if getattr(Authenticator.get_api_key, "_credential_watch", False):
        return
    get_api_key = Authenticator.get_api_key

    def fresh_api_key(self: Any) -> str:
        known = known_key(time.time())  # every provider call asks: no file read then
        if known is not None:
            return known
        with _lock:
            token = token_identity(self.access_token_file)
            standing = memo.current(token, time.monotonic())
            if standing is not None:
                raise CredentialRefused(standing)
            _drop_stale(Path(self.api_key_file), token)
            _fresh.clear()
            key = str(get_api_key(self))
            _remember_fresh(self, token)
            return key

    def exchange(self: Any) -> dict[str, Any]:
        return _exchange(self, memo)

    get_api_base = Authenticator.get_api_base

    def whole_api_base(self: Any) -> str | None:
        # LiteLLM writes api-key.json in place (open "w", json.dump) inside get_api_key;
        # read mid-write, the base is None and the request goes to its default host.
        with _lock:
            return get_api_base(self)

    fresh_api_key._credential_watch = True  # type: ignore[attr-defined]
    Authenticator.get_api_key = fresh_api_key  # type: ignore[method-assign]
    Authenticator._refresh_api_key = exchange  # type: ignore[method-assign]
    Authenticator.get_api_base = whole_api_base  # type: ignore[method-assign]


def _drop_stale(key_file: Path, token: TokenId) -> None:
    try:
        info = json.loads(key_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(info, dict) or key_is_stale(info, token, time.time()):
        with contextlib.suppress(OSError):
            key_file.unlink()


def _exchange(auth: Any, memo: Memo) -> dict[str, Any]:
    """LiteLLM's `_refresh_api_key`, without asking again after GitHub refused the token."""
    from litellm.llms.custom_httpx.http_handler import get_httpx_client
    from litellm.llms.github_copilot.authenticator import DEFAULT_GITHUB_API_KEY_URL
    from litellm.llms.github_copilot.common_utils import RefreshAPIKeyError

    token = token_identity(auth.access_token_file)
    headers = auth._get_github_headers(auth.get_access_token())
    url = os.getenv("GITHUB_COPILOT_API_KEY_URL", DEFAULT_GITHUB_API_KEY_URL)
    for attempt in range(ATTEMPTS):
        try:
            response = get_httpx_client().get(url, headers=headers)
        except Exception as error:  # network: ask again
            _log.warning("Copilot key exchange failed (%s/%s): %s", attempt + 1, ATTEMPTS, error)
            continue
        status = response.status_code
        if status in REFUSAL_STATUSES:
            refusal = Refusal(status, reason_of(_json(response), status), token, time.monotonic())
            memo.refused(refusal)
            _tell_refused(Path(auth.token_dir), refusal)
            _log.warning(
                "GitHub refused the credential at the Copilot key exchange: %s %s",
                status,
                refusal.reason,
            )
            raise CredentialRefused(refusal)
        info = _json(response)
        if 200 <= status < 300 and isinstance(info, dict) and info.get("token"):
            memo.accepted()
            with contextlib.suppress(OSError):
                (Path(auth.token_dir) / REFUSED_FILE).unlink()
            return {**info, **stamp(token, time.time())}
        _log.warning("Copilot key exchange answered %s (%s/%s)", status, attempt + 1, ATTEMPTS)
    raise RefreshAPIKeyError(
        message="Failed to refresh API key after maximum retries", status_code=401
    )


def _json(response: Any) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _tell_refused(folder: Path, refusal: Refusal) -> None:
    """For whoever writes the token file here (the local mode): the token was refused."""
    body = {"status": refusal.status, "reason": refusal.reason, "at": time.time()}
    part = folder / (REFUSED_FILE + ".part")
    with contextlib.suppress(OSError):
        part.write_text(json.dumps(body), encoding="utf-8")
        part.replace(folder / REFUSED_FILE)


def check_key() -> Refusal | None:
    """The refusal GitHub gives the current token, if any: gets the Copilot key as a provider
    would (a key exchange only when there is no fresh key). Blocking: call it in a thread."""
    from litellm.llms.github_copilot.authenticator import Authenticator

    try:
        Authenticator().get_api_key()
    except CredentialRefused as refused:
        return refused.refusal
    except Exception:  # anything else: the provider's own call says it, as before
        return None
    return None


def access_token_file() -> str:
    from litellm.llms.github_copilot.authenticator import Authenticator

    return str(Authenticator().access_token_file)
