"""The gateway's dependency providers, shared by every route module."""
from .ratelimit import RateLimits

# Defaults per action; override with config RATE_LIMITS.
RATE_LIMITS = RateLimits(submit="20/hour", edit="30/hour", report="10/hour", subscribe="5/hour", login="10/minute")
