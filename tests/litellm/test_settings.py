"""The plugin reads its settings back from the config file core/render.py writes."""

from __future__ import annotations

from pathlib import Path

from copilot_proxy.core.catalogue import Catalogue
from copilot_proxy.core.render import config_text
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.litellm import settings


def test_the_rendered_settings_come_back(tmp_path: Path) -> None:
    spec = parse_spec("p", "default", {"models": [{"name": "gpt-5-mini"}],
                                       "router": {"quotaCooldownSeconds": 900}})  # fmt: skip
    path = tmp_path / "config.yaml"
    path.write_text(config_text(spec, Catalogue(quota_reset_date="2027-01-01")))
    cooldowns = settings.section(settings.read(path), "cooldowns")
    assert cooldowns == {"quotaSeconds": 900, "quotaResetDate": "2027-01-01"}


def test_missing_or_odd_settings_read_as_none(tmp_path: Path) -> None:
    assert settings.read(None) == {} and settings.read(tmp_path / "absent.yaml") == {}
    odd = tmp_path / "odd.yaml"
    odd.write_text("copilot_proxy: [1, 2]\n")
    assert settings.read(odd) == {}
    assert settings.section({"cooldowns": 3}, "cooldowns") == {}
