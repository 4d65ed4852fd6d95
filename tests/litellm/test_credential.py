"""A refused credential's text, the refusal memo, and when a cached Copilot key is renewed."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no internet for the cost map

from copilot_proxy.litellm.credential import Memo, Refusal, message, reason_of
from copilot_proxy.litellm.internals.authenticator import STAMP, key_is_stale, token_identity


def test_githubs_reason_is_one_line_without_anything_shaped_like_a_token() -> None:
    body = {"message": "Bad\ncredentials for ghs_abcDEF123456 and github_pat_11AB_x"}
    assert reason_of(body, 401) == "Bad credentials for [token] and [token]"
    assert reason_of(None, 403) == "Forbidden"
    assert len(reason_of({"message": "x" * 1000}, 403)) == 300


def test_the_message_names_the_status_the_reason_and_where_to_look() -> None:
    text = message(Refusal(403, "policy off", (1,), 0.0), "team", "acme")
    assert "(403: policy off)" in text
    assert "kubectl describe cpx acme -n team" in text
    assert "expired or was revoked" in message(Refusal(401, "Bad credentials", (1,), 0.0), "t", "a")


def test_a_refusal_stands_for_its_token_file_and_a_while() -> None:
    memo = Memo(remember=10)
    memo.refused(Refusal(401, "Bad credentials", (1, 2), 100.0))
    assert memo.current((1, 2), 105.0) is not None
    assert memo.current((1, 3), 105.0) is None  # a new token file: ask GitHub again
    assert memo.current((1, 2), 111.0) is None  # later: ask again (a policy switched back on)
    memo.accepted()
    assert memo.last(101.0) is None


def test_a_key_from_another_token_file_or_near_its_end_is_renewed(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("one")
    now_id = token_identity(token)
    key = {
        "expires_at": 1000 + 1800,
        "refresh_in": 1500,
        STAMP: {"token": list(now_id), "fetched_at": 1000.0},
    }
    assert not key_is_stale(key, now_id, 2000.0)
    assert key_is_stale(key, now_id, 2500.0)  # Copilot's refresh_in passed
    assert key_is_stale({k: v for k, v in key.items() if k != STAMP}, now_id, 1001.0)
    part = tmp_path / "part"
    part.write_text("two")
    part.replace(token)  # an atomic replacement: another file
    assert key_is_stale(key, token_identity(token), 1001.0)
    short = {"expires_at": 106, STAMP: {"token": list(now_id), "fetched_at": 100.0}}
    assert not key_is_stale(short, now_id, 104.0)
    assert key_is_stale(short, now_id, 104.6)  # a quarter of a short life before its end
