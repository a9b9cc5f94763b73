"""The gateway's settings (config.yml over the environment), checked when it starts."""
import ipaddress

from pydantic import Field, field_validator

from dsi.settings import PlatformSettings


class GatewaySettings(PlatformSettings):
    # how many trusted reverse proxies stand in front (each appends to X-Forwarded-For); 0 ignores that header
    PROXY_HOPS: int = Field(default=0, ge=0)
    RATE_LIMITS: dict[str, str] = Field(default_factory=dict, description="action → 'N/second|minute|hour|day'")
    # the durable spool of submissions and reports the owners could not take yet (a volume in containers)
    SPOOL_DIR: str = "var/spool"
    # rate limits shared by every gateway replica (redis://host:6379/0); empty: each replica counts in memory
    REDIS_URL: str | None = Field(default=None, description="Redis for the rate limits of all replicas")
    RATE_LIMIT_PREFIX: str = Field(default="dsi-ratelimit-", min_length=1, description="key prefix in Redis")
    # who may read /metrics on the gateway's own port: the addresses of Prometheus (comma-separated networks)
    METRICS_ALLOW: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = Field(
        default=(ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")),
        description="networks allowed to read /metrics, such as 10.0.0.0/8")

    @field_validator("METRICS_ALLOW", mode="before")
    @classmethod
    def _networks(cls, value):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return tuple(ipaddress.ip_network(part, strict=False) if isinstance(part, str) else part for part in value)

    def metrics_allowed(self, address: str) -> bool:
        try:
            client = ipaddress.ip_address(address)
        except ValueError:
            return False
        if getattr(client, "ipv4_mapped", None):
            client = client.ipv4_mapped
        return any(client in network for network in self.METRICS_ALLOW)
