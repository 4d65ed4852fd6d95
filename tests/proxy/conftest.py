"""The proxy fixtures, for the tests in this folder (others may register tests.proxy.plugin)."""

from tests.proxy.plugin import (  # noqa: F401 - fixtures are found by name
    proxy,
    proxy_env,
    proxy_spec,
    proxy_upstream,
    upstream,
)
