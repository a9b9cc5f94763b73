"""Newsletter fixtures. Unit tier: the domain on a migrated database (SQLite and PostgreSQL). Integration
tier: a real SMTP server (the aiosmtpd sink, in its own process, on a free port), real RabbitMQ containers
(nameko's runner_factory) and, for crash and scale tests, `nameko run` processes."""
import email
import os
import socket
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from services.newsletter.dependencies import Mailer, Settings
from services.newsletter.smtp import Pacer
from tests.db import service_fixtures
from tests.helpers import eventually
from tests.processes import nameko_run, stop

ROOT = Path(__file__).resolve().parents[2]


def wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def wait_until(condition, seconds: float = 20, step: float = 0.1):
    return eventually(condition, seconds, step)


class Sink:
    """The SMTP sink process and the messages it stored."""

    def __init__(self, port: int, directory: Path):
        self.port, self.directory = port, directory
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.newsletter.sink_server", "--port", str(port), "--dir", str(directory)],
            cwd=ROOT)
        wait_for_port(port)

    def messages(self) -> list:
        return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
                for path in sorted(self.directory.glob("*.eml"))]

    def count(self) -> int:
        return sum(1 for _ in self.directory.glob("*.eml"))

    def to(self, address: str) -> list:
        return [m for m in self.messages() if m["X-Sink-Rcpt-To"] == address]

    def wait_for(self, count: int, seconds: float = 20, address: str | None = None) -> list:
        pick = (lambda: self.to(address)) if address else self.messages
        wait_until(lambda: len(pick()) >= count, seconds)
        return pick()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def sink(tmp_path, free_port):
    server = Sink(free_port, tmp_path / "mail")
    yield server
    server.stop()


globals().update(service_fixtures("newsletter"))


@pytest.fixture
def sessions(newsletter_db):
    return sessionmaker(bind=newsletter_db, expire_on_commit=False)


def newsletter_config(sink_port: int, **overrides) -> dict:
    """Config as config.yml gives it, with quick retries for tests."""
    return {"PUBLIC_URL": "http://dsi.test", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink_port,
            "SMTP_TIMEOUT": 5, "MAIL_FROM": "DSI network <newsletter@dsi.test>", "RETRY_BACKOFF": 0.2,
            "MAX_ATTEMPTS": 3, "SEND_SLICE": 3, "CLAIM_LEASE": 5, **overrides}


@pytest.fixture
def make_mailer(sink):
    def make(**overrides) -> Mailer:
        settings = Settings.from_config(newsletter_config(sink.port, **overrides))
        return Mailer(settings, Pacer(settings.rate), f"test-{os.getpid()}-{time.monotonic_ns()}")

    return make


class ServiceProcess:
    """`nameko run` of the newsletter service, configured through the environment like in production."""

    def __init__(self, name: str, log_dir: Path, env: dict):
        self.log = open(log_dir / f"{name}.log", "wb")
        self.process = nameko_run("services/newsletter/config.yml", "services.newsletter.service:NewsletterService",
                                  env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no clean-up, as in a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        stop(self.process, 20)
        self.log.close()


@pytest.fixture
def service_processes(tmp_path, rabbit_config, sink):
    started = []

    def start(name: str, database_url: str, **env) -> ServiceProcess:
        settings = {"AMQP_URI": rabbit_config["AMQP_URI"], "NEWSLETTER_DB_URL": database_url,
                    "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port), "SMTP_TIMEOUT": "2",
                    "PUBLIC_URL": "http://dsi.test", "NEWSLETTER_CLAIM_LEASE": "2", "LOG_LEVEL": "INFO",
                    # the editor's time to review a planned edition: none here, whatever the day of the month
                    "NEWSLETTER_EDITION_DELAY_HOURS": "0",
                    **{key: str(value) for key, value in env.items()}}
        process = ServiceProcess(name, tmp_path, settings)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
