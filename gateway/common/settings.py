"""The gateway's settings (config.yml over the environment), checked when it starts."""
from pydantic import Field

from dsi.settings import PlatformSettings


class GatewaySettings(PlatformSettings):
    # how many trusted reverse proxies stand in front (each appends to X-Forwarded-For); 0 ignores that header
    PROXY_HOPS: int = Field(default=0, ge=0)
    RATE_LIMITS: dict[str, str] = Field(default_factory=dict, description="action → 'N/second|minute|hour|day'")
