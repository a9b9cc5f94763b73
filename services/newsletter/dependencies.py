"""The newsletter's outside resources as nameko dependency providers: its database, and the mailer (SMTP
settings, the instance's send pacer and its name in claims) with the service's settings from config.yml."""
import os
import socket
import uuid
from dataclasses import dataclass

from nameko.extensions import DependencyProvider
from sqlalchemy.orm import sessionmaker

from dsi.database import Database

from .delivery import Policy
from .models import Base
from .smtp import Connection, Pacer, SmtpSettings
from .subscribers import Limits, Links

database = Database(Base)


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    public_url: str
    smtp: SmtpSettings
    mails: Policy  # transactional mail
    editions: Policy
    rate: float  # messages per second, per instance
    max_errors: int  # failed deliveries after which an edition pauses
    slice_seconds: float  # how long one timer tick sends before it lets the timer fire again
    plan_delay_hours: float
    limits: Limits

    @property
    def links(self) -> Links:
        return Links(self.public_url)

    @property
    def sending_grace(self) -> float:
        """After this, a row still `sending` belongs to an instance that died (a live one records the server's
        answer within one SMTP timeout)."""
        return self.smtp.timeout + 5

    @classmethod
    def from_config(cls, config: dict) -> "Settings":
        get = lambda name, default: config.get(name, default)  # noqa: E731
        smtp = SmtpSettings(
            host=str(get("SMTP_HOST", "localhost")), port=int(get("SMTP_PORT", 2525)),
            timeout=float(get("SMTP_TIMEOUT", 30)), username=str(get("SMTP_USER", "") or ""),
            password=str(get("SMTP_PASSWORD", "") or ""), starttls=_flag(get("SMTP_STARTTLS", False)),
            sender=str(get("MAIL_FROM", "DSI network <newsletter@localhost>")),
        )
        lease, backoff = float(get("CLAIM_LEASE", 60)), float(get("RETRY_BACKOFF", 30))
        attempts = int(get("MAX_ATTEMPTS", 5))
        return cls(
            public_url=str(get("PUBLIC_URL", "http://localhost:8000")).rstrip("/"),
            smtp=smtp,
            mails=Policy(concurrency=2, batch=10, lease=lease, max_attempts=attempts, backoff=backoff),
            editions=Policy(concurrency=int(get("SEND_CONCURRENCY", 8)), batch=int(get("SEND_BATCH", 25)),
                            lease=lease, max_attempts=attempts, backoff=backoff),
            rate=float(get("SEND_RATE", 600)),
            max_errors=int(get("MAX_ERRORS", 100)),
            slice_seconds=float(get("SEND_SLICE", 10)),
            plan_delay_hours=float(get("EDITION_DELAY_HOURS", 48)),
            limits=Limits(per_client_hour=int(get("SIGNUPS_PER_CLIENT_HOUR", 10)),
                          per_address_day=int(get("SIGNUPS_PER_ADDRESS_DAY", 3)),
                          purge_after_days=int(get("PURGE_UNCONFIRMED_DAYS", 14))),
        )


class Mailer:
    """What a worker gets: settings, a factory of SMTP connections, the pacer, this instance's name."""

    def __init__(self, settings: Settings, pacer: Pacer, owner: str):
        self.settings = settings
        self.pacer = pacer
        self.owner = owner

    def connect(self) -> Connection:
        return Connection(self.settings.smtp)

    def sessions(self, engine) -> sessionmaker:
        return sessionmaker(bind=engine, expire_on_commit=False)


class MailerProvider(DependencyProvider):
    def setup(self):
        self.settings = Settings.from_config(self.container.config)
        self.pacer = Pacer(self.settings.rate)  # one per instance: every tick of this process shares the rate
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def get_dependency(self, worker_ctx):
        return Mailer(self.settings, self.pacer, self.owner)


mailer = MailerProvider()
