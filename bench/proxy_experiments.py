"""Changes to the proxy process that the benchmark measures before they land in the image.

Loaded inside a `litellm` proxy as extra `litellm_settings.callbacks` of a
variant set-up (see configs.py), with the repository root on PYTHONPATH; only
the benchmark uses them. Each is a proposal for copilot_proxy/litellm/.
"""

from __future__ import annotations

import importlib.util
import sys

from litellm.integrations.custom_logger import CustomLogger

# LiteLLM 1.108 imports its OTel V2 logger inside every authenticated request
# (user_api_key_auth._seed_request_destinations). Without opentelemetry-sdk
# that import fails half-way and is retried, from the file system, on every
# request (~10% of the proxy's CPU per request here). A None entry in
# sys.modules makes the import fail at once; the caller already treats the
# failure as "no OTel destinations".
if importlib.util.find_spec("opentelemetry.sdk") is None:
    sys.modules.setdefault("litellm.integrations.otel.logger", None)  # type: ignore[arg-type]
otel_fast_fail = CustomLogger()
