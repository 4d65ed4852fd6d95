"""The proxy fixtures, for the tests in this folder (others may register tests.proxy.plugin)."""

import os

# litellm, imported by tests as a client, would download its cost map (no internet here).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.proxy.plugin import (  # noqa: F401 - fixtures are found by name
    proxy,
    proxy_env,
    proxy_spec,
    proxy_upstream,
    upstream,
)
