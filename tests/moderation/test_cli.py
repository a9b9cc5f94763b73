"""`dsi migrate` and `dsi create-admin` as an operator runs them."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.moderation.models import Staff

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration  # runs the `dsi` command in processes of its own


def dsi(*args, stdin="", url):
    env = {**os.environ, "MODERATION_DB_URL": url, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "dsi.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)


def test_migrate_then_create_the_first_admin(sqlite_url, engine_for):
    assert dsi("migrate", "moderation", url=sqlite_url).returncode == 0
    created = dsi("create-admin", "Boss@Example.org", "--password-stdin", stdin="a long enough secret\n",
                  url=sqlite_url)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created admin account boss@example.org"
    with Session(engine_for(sqlite_url)) as session:
        staff = session.scalars(select(Staff)).one()
        assert staff.role == "admin" and staff.password_hash.startswith("$argon2id$")

    again = dsi("create-admin", "boss@example.org", "--password-stdin", stdin="a long enough secret\n",
                url=sqlite_url)
    assert again.returncode == 2 and "already is an account" in again.stderr
    weak = dsi("create-admin", "mod@example.org", "--role", "moderator", "--password-stdin", stdin="short\n",
               url=sqlite_url)
    assert weak.returncode == 2 and "password:" in weak.stderr
    no_terminal = dsi("create-admin", "mod@example.org", url=sqlite_url)
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr
