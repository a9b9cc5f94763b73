"""The newsletter service's settings (config.yml over the environment), checked when it starts."""
from pydantic import Field

from dsi.settings import PlatformSettings


class NewsletterSettings(PlatformSettings):
    SMTP_HOST: str = "localhost"
    SMTP_PORT: int = Field(default=2525, ge=1, le=65535)
    SMTP_TIMEOUT: float = Field(default=30, gt=0)
    SMTP_USER: str | None = ""
    SMTP_PASSWORD: str | None = ""
    SMTP_STARTTLS: bool = False
    MAIL_FROM: str = "DSI network <newsletter@localhost>"
    SEND_RATE: float = Field(default=600, gt=0, description="messages per second, per instance")
    SEND_CONCURRENCY: int = Field(default=8, ge=1)
    SEND_BATCH: int = Field(default=25, ge=1)
    SEND_SLICE: float = Field(default=10, gt=0)
    CLAIM_LEASE: float = Field(default=60, gt=0)
    RETRY_BACKOFF: float = Field(default=30, ge=0)
    MAX_ATTEMPTS: int = Field(default=5, ge=1)
    MAX_ERRORS: int = Field(default=100, ge=1)
    EDITION_DELAY_HOURS: float = Field(default=48, ge=0)
    SIGNUPS_PER_CLIENT_HOUR: int = Field(default=10, ge=1)
    SIGNUPS_PER_ADDRESS_DAY: int = Field(default=3, ge=1)
    PURGE_UNCONFIRMED_DAYS: int = Field(default=14, ge=1)
