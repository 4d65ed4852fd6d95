"""Fixtures the attacks reuse: the login service (tests/auth) and the real LiteLLM proxy
(tests/proxy/plugin.py)."""

from tests.auth.conftest import gh, make_server  # noqa: F401 - fixtures are found by name
from tests.proxy.plugin import (  # noqa: F401
    proxy,
    proxy_env,
    proxy_spec,
    proxy_upstream,
    upstream,
)
