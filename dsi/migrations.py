"""Alembic, driven from code: every service keeps its revisions in services/<name>/migrations/versions and a
two-line env.py that hands its metadata to run_env. `dsi migrate` upgrades every service's database."""
import importlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config

from dsi.database import make_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def revision(service: str, url: str, message: str) -> None:
    """Write a new revision from the difference between the models and the database at `url`."""
    command.revision(alembic_config(service, url), message=message, autogenerate=True)


def run_env(metadata) -> None:
    """The body of every service's migrations/env.py (online mode only: migrations run against a database)."""
    engine = make_engine(context.config.attributes["url"])
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def service_metadata(service: str):
    return importlib.import_module(f"services.{service}.models").Base.metadata
