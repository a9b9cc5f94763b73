"""The newsletter's outside resources as nameko dependency providers: its database, and the mailer (SMTP
settings, the instance's send pacer and its name in claims) with the service's settings from config.yml."""
import os
import socket
import uuid
from dataclasses import dataclass

from nameko.extensions import DependencyProvider
from sqlalchemy.orm import sessionmaker

from dsi.database import Database
from dsi.settings import shared_environment, validate as validate_settings

from .delivery import Policy
from .models import Base
from .settings import NewsletterSettings
from .smtp import Connection, Pacer, SmtpSettings
from .subscribers import Limits, Links

database = Database(Base)


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
        """The service's settings, validated (a wrong value stops the start with a message naming it)."""
        given = validate_settings(NewsletterSettings, {**shared_environment(), **config}, "the newsletter service")
        smtp = SmtpSettings(host=given.SMTP_HOST, port=given.SMTP_PORT, timeout=given.SMTP_TIMEOUT,
                            username=given.SMTP_USER or "", password=given.SMTP_PASSWORD or "",
                            starttls=given.SMTP_STARTTLS, sender=given.MAIL_FROM)
        return cls(
            public_url=given.public_url,
            smtp=smtp,
            mails=Policy(concurrency=2, batch=10, lease=given.CLAIM_LEASE, max_attempts=given.MAX_ATTEMPTS,
                         backoff=given.RETRY_BACKOFF),
            editions=Policy(concurrency=given.SEND_CONCURRENCY, batch=given.SEND_BATCH, lease=given.CLAIM_LEASE,
                            max_attempts=given.MAX_ATTEMPTS, backoff=given.RETRY_BACKOFF),
            rate=given.SEND_RATE,
            max_errors=given.MAX_ERRORS,
            slice_seconds=given.SEND_SLICE,
            plan_delay_hours=given.EDITION_DELAY_HOURS,
            limits=Limits(per_client_hour=given.SIGNUPS_PER_CLIENT_HOUR,
                          per_address_day=given.SIGNUPS_PER_ADDRESS_DAY,
                          purge_after_days=given.PURGE_UNCONFIRMED_DAYS),
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
