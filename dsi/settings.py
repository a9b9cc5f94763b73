"""Settings of the platform, typed and read in one place.

Operators write each service's config.yml (`${VAR:default}`) and the environment; nameko merges them into the
container's config. Each service declares its own pydantic model of what it reads (services/<name>/settings.py)
and takes it through the `Settings` dependency, which validates it once when the service starts and stops the
start with a clear message naming each bad value. This module is the only reader of os.environ outside the
launcher: the few values every process shares (the secret key, the run mode, the broker, database URLs).
"""
import functools
import os
import secrets
from pathlib import Path
from typing import Literal

from nameko.extensions import DependencyProvider
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_AMQP_URI = "pyamqp://guest:guest@localhost:5672/"
DEFAULT_PUBLIC_URL = "http://localhost:8000"
# The key the code once fell back to: public, so refused as a secret outside development.
PUBLIC_DEV_KEY = "dev-only-secret-change-me"
DEVELOPMENT = "development"


class SettingsError(RuntimeError):
    """A setting is missing or wrong: the message names each and says what is expected."""


def environment(name: str, default: str | None = None) -> str | None:
    """A variable of the environment; the one place outside the launcher that reads it."""
    return os.environ.get(name, default)


def amqp_uri() -> str:
    return environment("AMQP_URI") or DEFAULT_AMQP_URI


def database_url(service: str) -> str:
    """A service's database URL: `<SERVICE>_DB_URL`, else a SQLite file under var/ (as in its config.yml)."""
    return environment(f"{service.upper()}_DB_URL") or f"sqlite:///var/{service}.db"


def media_dir() -> Path:
    """Where uploaded files live: MEDIA_DIR, else var/media."""
    return Path(environment("MEDIA_DIR") or "var/media")


def real_data(variable: str, folder: str, marker: str) -> Path | None:
    """A folder of the real data (the DSI4EU export, the editorial texts): where `variable` says, else
    ../shared/data/`folder` beside the checkout; None when neither holds its `marker` file."""
    beside = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / folder
    for candidate in (environment(variable), beside):
        if candidate and (Path(candidate) / marker).exists():
            return Path(candidate)
    return None


def child_environment(**extra: str) -> dict:
    """This process's environment with `extra` on top, for a program it starts (pg_dump carrying PGPASSWORD)."""
    return {**os.environ, **extra}


def development_secret(path: Path) -> str:
    """The development key kept in `path` (made at first start, readable by its owner only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    path.chmod(0o600)
    return path.read_text().strip()


class OperationsSettings(BaseModel):
    """How a process shows itself to operators: its metrics port and its log lines."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    METRICS_PORT: int | None = Field(default=None, ge=0, le=65535,
                                     description="where this process serves /metrics (unset: nowhere; 0: any free)")
    METRICS_MEASURE_INTERVAL: float = Field(default=15.0, gt=0, description="seconds between a service's gauges")
    LOG_FORMAT: Literal["text", "json"] = Field(default="text", description="json: one JSON object per line")

    @field_validator("METRICS_PORT", mode="before")
    @classmethod
    def _unset_when_empty(cls, value):
        return None if value == "" else value


class PlatformSettings(OperationsSettings):
    """What every process of the platform shares."""

    DSI_MODE: Literal["development", "production"] = "production"
    SECRET_KEY: str = Field(default="", description="signs every link the platform mails, and staff sessions")
    AMQP_URI: str = DEFAULT_AMQP_URI
    PUBLIC_URL: str = DEFAULT_PUBLIC_URL

    @model_validator(mode="after")
    def _secret_is_secret(self):
        if not self.SECRET_KEY:
            raise ValueError("SECRET_KEY: is not set; set it to a long random string "
                             "(`dsi run` makes one for development in var/secret_key)")
        if self.DSI_MODE != DEVELOPMENT and (self.SECRET_KEY == PUBLIC_DEV_KEY or len(self.SECRET_KEY) < 16):
            raise ValueError("SECRET_KEY: is the public development key or shorter than 16 characters; outside "
                             "development (DSI_MODE=development) set a long random string")
        return self

    @property
    def public_url(self) -> str:
        return self.PUBLIC_URL.rstrip("/")


class DeliverySettings(BaseModel):
    """How a service's consumers treat a message that keeps failing (dsi/deadletters.py)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    MAX_DELIVERIES: int = Field(default=5, ge=1, le=100,
                                description="failed deliveries before a message goes to the dead letters")
    DELIVERY_BACKOFF: float = Field(default=1.0, ge=0, le=30,
                                    description="seconds before the first retry of a failed handler; doubles")
    DELIVERY_COUNTS: str = Field(default="", description="the local file of redelivery counts; "
                                 "by default var/delivery-counts/<service>.sqlite")


class DatabaseSettings(BaseModel):
    """How every process talks to PostgreSQL (dsi/database.py)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    DB_PREPARED_STATEMENTS: bool = Field(
        default=True, description="public reads as prepared statements, parsed and planned once per connection; "
                                  "false behind a pooler that hands a session's statements to other server "
                                  "connections (PgBouncer in transaction mode)")


def validate(model: type[BaseModel], values: dict, who: str = "the platform"):
    """`values` as `model`, or SettingsError with a line per bad setting."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if not name and ": " in message:
                name, message = message.split(": ", 1)
            lines.append(f"  {name}: {message}")
        raise SettingsError(f"{who} cannot start; fix these settings:\n" + "\n".join(lines)) from None


SHARED_NAMES = ("DSI_MODE", "SECRET_KEY", "AMQP_URI", "PUBLIC_URL", "METRICS_PORT", "METRICS_MEASURE_INTERVAL",
                "LOG_FORMAT")


def shared_environment() -> dict:
    return {name: value for name in SHARED_NAMES if (value := environment(name)) is not None}


def operations(config: dict, who: str = "the platform") -> OperationsSettings:
    """The operations settings of a container: its config over the shared environment."""
    return validate(OperationsSettings, {**shared_environment(), **config}, who)


@functools.lru_cache(maxsize=1)
def platform() -> PlatformSettings:
    """The shared settings of this process, read and checked once."""
    return validate(PlatformSettings, shared_environment())


@functools.lru_cache(maxsize=1)
def database() -> DatabaseSettings:
    """The database settings of this process, read and checked once."""
    return validate(DatabaseSettings, {name: value for name in DatabaseSettings.model_fields
                                       if (value := environment(name)) is not None})


def secret_key() -> str:
    return platform().SECRET_KEY


class Settings(DependencyProvider):
    """A service's typed settings: its config (config.yml and the test's dict) over the shared environment,
    validated as `model` when the service starts, so a wrong value stops the start with a clear message."""

    def __init__(self, model: type[BaseModel]):
        self.model = model

    def setup(self):
        values = {**shared_environment(), **self.container.config}
        self.settings = validate(self.model, values, f"the {self.container.service_name} service")

    def get_dependency(self, worker_ctx):
        return self.settings
