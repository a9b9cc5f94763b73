"""Database helpers shared by the test suites (fixtures live in conftest.py)."""
from sqlalchemy import select
from sqlalchemy.orm import Session


def session_of(engine):
    """A session on a test database whose objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)


def outbox_events(session, outbox_model):
    """The events a producer wrote to its outbox so far, oldest first."""
    return [row.body for row in session.scalars(select(outbox_model).order_by(outbox_model.seq))]
