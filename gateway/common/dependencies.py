"""The gateway's dependency providers, one instance each, declared by every route class that uses them."""
from dsi.settings import Settings

from .ratelimit import RateLimits
from .settings import GatewaySettings

# Defaults per action; override with config RATE_LIMITS. (Newsletter sign-ups are limited by the newsletter
# service itself, in its database, so that every instance shares the count.)
RATE_LIMITS = RateLimits(submit="20/hour", edit="30/hour", report="10/hour", login="10/minute")
SETTINGS = Settings(GatewaySettings)
