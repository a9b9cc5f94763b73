"""Shared fixtures. Two tiers, as in each service's tests:

- unit: domain functions on a real database session (SQLite and PostgreSQL), no broker;
- integration: real nameko containers on a throwaway RabbitMQ vhost (nameko's `rabbit_config`, which needs
  the management plugin) and a real database; end-to-end tests drive the gateway over HTTP.

PostgreSQL tests use TEST_POSTGRES_URL (default: the local server) and are skipped only when no server answers.
"""
import eventlet

eventlet.monkey_patch()  # before anything opens a socket: nameko's fixtures rely on it

import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402
from kombu import Connection, Exchange, Queue  # noqa: E402
from nameko.constants import WEB_SERVER_CONFIG_KEY  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from dsi.database import create_databases, drop_databases, make_engine  # noqa: E402
from dsi.migrations import service_metadata, upgrade  # noqa: E402
from tests.processes import free_port_block  # noqa: E402

# The settings every service reads from the environment: a fresh key per run (the suite runs in production
# mode, so the services' start-up check of SECRET_KEY is exercised too). Subprocesses inherit it.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# Every test gets one tier: `browser` for the Chromium journeys, `integration` for anything that needs RabbitMQ
# (nameko's rabbit_config), runs services in processes or drives a deployment, `unit` for the rest.
TIERS = ("unit", "integration", "browser")
INTEGRATION_FIXTURES = {"rabbit_config", "rabbit_manager", "container_factory", "runner_factory",
                        "web_config_port", "web_session"}
INTEGRATION_FOLDERS = {"deploy", "chaos"}


def pytest_ignore_collect(collection_path, config):
    """`pytest -m unit` does not even import the folders that hold no unit test (their imports alone are slow)."""
    if config.getoption("markexpr") == "unit":
        folder = collection_path if collection_path.is_dir() else collection_path.parent
        return folder.name in INTEGRATION_FOLDERS | {"browser"} or None
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.get_closest_marker(tier) for tier in TIERS):
            continue
        folder = Path(str(item.fspath)).parent.name
        if folder == "browser":
            item.add_marker(pytest.mark.browser)
        elif folder in INTEGRATION_FOLDERS or INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


@pytest.fixture
def web_config(web_config, tmp_path):
    """nameko's web config, with the gateway's spool in the test's own folder, on a port no outgoing connection
    takes (nameko's own is drawn from the ephemeral range)."""
    web_config[WEB_SERVER_CONFIG_KEY] = f"127.0.0.1:{free_port_block(1)}"
    web_config["SPOOL_DIR"] = str(tmp_path / "spool")
    return web_config


def _postgres_answers() -> bool:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    if not _postgres_answers():
        pytest.skip(f"no PostgreSQL server answers at {POSTGRES_URL}")
    return POSTGRES_URL


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each database test runs on both: "sqlite" and "postgresql" (the server of `postgres_server`)."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server")
    return request.param


@pytest.fixture
def database_url(backend, tmp_path):
    """A fresh, empty database on each backend; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/test.db"
        return
    name = f"dsi_test_{uuid.uuid4().hex[:12]}"
    yield create_databases(POSTGRES_URL, [name])[name]
    drop_databases(POSTGRES_URL, [name])


class MigratedSchemas:
    """Each service's schema migrated once per run and backend, handed to each test as a fresh, empty database:
    on SQLite a copy of the migrated file, on PostgreSQL one database per service emptied before each test
    (its sequences restarted too).
    Running the migrations (and, on PostgreSQL, creating a database) for every test made the unit tier slow."""

    def __init__(self, folder: Path):
        self.folder, self.run = folder, uuid.uuid4().hex[:8]
        self.migrated: dict[tuple[str, str], str] = {}  # (backend, service) -> its database's URL

    def fresh(self, backend: str, service: str, tmp_path: Path) -> str:
        url = self.migrated.get((backend, service)) or self._migrate(backend, service)
        if backend == "sqlite":
            copy = tmp_path / f"{service}.db"
            shutil.copyfile(make_url(url).database, copy)
            return f"sqlite:///{copy}"
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                # a test that left a transaction open would make this wait forever: fail instead
                connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                # DELETE, not TRUNCATE: on a handful of rows it is several times faster
                for table in reversed(service_metadata(service).sorted_tables):
                    connection.execute(table.delete())
                for sequence in connection.scalars(text("SELECT sequencename FROM pg_sequences")):
                    connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        finally:
            engine.dispose()
        return url

    def _migrate(self, backend: str, service: str) -> str:
        if backend == "sqlite":
            url = f"sqlite:///{self.folder}/{service}.db"
        else:
            name = f"dsi_test_{self.run}_{service}"
            url = create_databases(POSTGRES_URL, [name])[name]
        upgrade(service, url)
        self.migrated[(backend, service)] = url
        return url

    def drop(self):
        drop_databases(POSTGRES_URL, [make_url(url).database for (backend, _service), url in self.migrated.items()
                                      if backend == "postgresql"])


@pytest.fixture(scope="session")
def migrated_schemas(tmp_path_factory):
    schemas = MigratedSchemas(tmp_path_factory.mktemp("schemas"))
    yield schemas
    schemas.drop()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def engine_for():
    """Builds engines with the platform's settings and disposes of them after the test."""
    engines = []

    def build(url):
        engine = make_engine(url)
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.dispose()


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's, see deploy/ensure-chromium.sh) for every browser test of the run:
    Playwright's sync API can start only once per process."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: run deploy/ensure-chromium.sh (as root) to run the browser tests")
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    # No playwright.stop(): under eventlet (which nameko's pytest plugin installs) it waits for its driver
    # forever. The driver ends by itself when this process ends and its pipe closes.


@pytest.fixture
def free_port():
    """A free port, and the one after it free too (a platform's gateway and its mail sink)."""
    return free_port_block(2)


@pytest.fixture
def web_session(web_config_port):
    """nameko's own web_session imports a helper werkzeug 3 removed; this one is a plain requests session."""
    base = f"http://127.0.0.1:{web_config_port}"

    class Session(requests.Session):
        def request(self, method, url, *args, **kwargs):
            return super().request(method, base + url, *args, **kwargs)

    with Session() as session:
        yield session


class EventSpy:
    """A queue bound to a service's event exchange: what a consumer of its events would receive."""

    def __init__(self, amqp_uri: str, producer: str, routing_key: str = "#"):
        self.connection = Connection(amqp_uri)
        exchange = Exchange(f"{producer}.events", type="topic", durable=True)
        self.queue = Queue(f"spy-{uuid.uuid4().hex}", exchange, routing_key=routing_key, auto_delete=True)
        self.queue(self.connection.default_channel).declare()
        self.received: list[dict] = []

    def drain(self, until=lambda received: False, timeout: float = 5.0) -> list[dict]:
        """Collect messages until `until(received)` holds or `timeout` seconds pass without one arriving."""
        with self.connection.Consumer(self.queue, callbacks=[self._on_message], accept=["json"]):
            while not until(self.received):
                try:
                    self.connection.drain_events(timeout=timeout)
                except socket.timeout:
                    break
        return self.received

    def _on_message(self, body, message):
        self.received.append(body if isinstance(body, dict) else json.loads(body))
        message.ack()

    def of_type(self, event_type: str) -> list[dict]:
        return [event for event in self.received if event["type"] == event_type]

    def close(self):
        self.connection.release()


@pytest.fixture
def event_spy(rabbit_config):
    spies = []

    def make(producer: str, routing_key: str = "#") -> EventSpy:
        spy = EventSpy(rabbit_config["AMQP_URI"], producer, routing_key)
        spies.append(spy)
        return spy

    yield make
    for spy in spies:
        spy.close()
