"""Where a proxy's GitHub lives: github.com, or a GHE.com tenant with data residency
(`spec.github`). One definition of GitHub's endpoints for the proxy pods (the
GITHUB_COPILOT_*_URL variables of manifests.github_env) and the login service
(auth/config.py); docs/upstream.md says where each one comes from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GitHub:
    host: str = "github.com"
    api_url: str = ""

    @property
    def api_base(self) -> str:
        """The REST API root: api.github.com, or api.<tenant>.ghe.com for data residency."""
        if self.api_url:
            return self.api_url.rstrip("/")
        return f"https://api.{self.host}"

    @property
    def web_base(self) -> str:
        return f"https://{self.host}"

    # GitHub's endpoints, one definition for the proxy pods and the login service.
    @property
    def device_code_url(self) -> str:
        return f"{self.web_base}/login/device/code"

    @property
    def access_token_url(self) -> str:
        return f"{self.web_base}/login/oauth/access_token"

    @property
    def copilot_token_url(self) -> str:
        return f"{self.api_base}/copilot_internal/v2/token"

    @property
    def copilot_user_url(self) -> str:
        return f"{self.api_base}/copilot_internal/user"
