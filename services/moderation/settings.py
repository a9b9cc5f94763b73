"""The moderation service's settings (config.yml over the environment), checked when it starts."""
from pydantic import Field

from dsi.settings import PlatformSettings


class ModerationSettings(PlatformSettings):
    REPORT_THRESHOLD: int = Field(default=3, ge=1, description="reports that hide a record until a decision")
    LOGIN_MAX_FAILURES: int = Field(default=5, ge=1)
    LOCKOUT_MINUTES: int = Field(default=15, ge=1)
    SESSION_HOURS: int = Field(default=12, ge=1)
