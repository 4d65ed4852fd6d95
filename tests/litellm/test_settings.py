"""The plugin reads its settings back from the config file core/render.py writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from copilot_proxy.core.catalogue import Catalogue
from copilot_proxy.core.render import config_text
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.litellm import internals, settings
from copilot_proxy.litellm.cooldowns import Cooldowns
from copilot_proxy.litellm.failures import Failure
from copilot_proxy.litellm.limits import Limits


def test_the_rendered_settings_come_back(tmp_path: Path) -> None:
    spec = parse_spec("p", "default", {"models": [{"name": "gpt-5-mini"}],
                                       "router": {"quotaCooldownSeconds": 900}})  # fmt: skip
    path = tmp_path / "config.yaml"
    path.write_text(config_text(spec, Catalogue(quota_reset_date="2027-01-01")))
    cooldowns = settings.section(settings.read(path), "cooldowns")
    assert cooldowns == {"seconds": 60, "quotaSeconds": 900, "quotaResetDate": "2027-01-01"}


def test_missing_or_odd_settings_read_as_none(tmp_path: Path) -> None:
    assert settings.read(None) == {} and settings.read(tmp_path / "absent.yaml") == {}
    odd = tmp_path / "odd.yaml"
    odd.write_text("copilot_proxy: [1, 2]\n")
    assert settings.read(odd) == {}
    assert settings.section({"cooldowns": 3}, "cooldowns") == {}


@pytest.mark.parametrize(
    ("router", "failure"),
    [({"cooldownSeconds": 0}, Failure("gpt-5-mini", 429, "rate_limited")),
     ({"quotaCooldownSeconds": 0}, Failure("gpt-5-mini", 402, "quota_exceeded"))],
)  # fmt: skip
def test_zero_seconds_in_the_spec_means_no_cooldown_in_the_running_proxy(
    tmp_path: Path, router: dict[str, int], failure: Failure
) -> None:
    """LiteLLM's Router turns `cooldown_time: 0` into its 5 s default and the plugin read
    `quotaSeconds: 0` as unset (3600 s): a user who turned cooldowns off still had them."""
    from litellm.router import Router

    spec = parse_spec("p", "default", {"models": [{"name": "gpt-5-mini"}], "router": router})
    path = tmp_path / "config.yaml"
    path.write_text(config_text(spec))
    config = yaml.safe_load(path.read_text())
    live = Router(
        model_list=[{"model_name": "m", "litellm_params": {"model": "openai/m", "api_key": "x"}}],
        **config["router_settings"],
    )
    policy = Limits.policy(internals.view_of(live), settings.read(path))
    assert Cooldowns().cool(failure, None, policy, now=100.0, wall=0.0) is None
