"""The `dsi` subcommands of the content service, as an operator runs them."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsi import cli
from services.content import commands
from services.content.models import Item, Outbox
from tests.content.conftest import EDITORIAL_DATA


@pytest.fixture
def content_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/content.db"
    monkeypatch.setenv("CONTENT_DB_URL", url)
    assert cli.main(["migrate", "content"]) == 0
    return url


def count(engine_for, url, model=Item):
    with Session(engine_for(url)) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.skipif(not (EDITORIAL_DATA / "manifest.json").exists(), reason="no editorial data here")
def test_import_editorial_twice(content_url, engine_for, capsys):
    assert cli.main(["import-editorial", str(EDITORIAL_DATA)]) == 0
    assert "2 published, 3 drafts" in capsys.readouterr().out
    rows = count(engine_for, content_url)
    assert cli.main(["import-editorial", str(EDITORIAL_DATA)]) == 0
    assert "5 already imported" in capsys.readouterr().out
    assert count(engine_for, content_url) == rows == 5


def test_import_editorial_from_a_wrong_folder_fails_clearly(content_url, tmp_path, capsys):
    assert cli.main(["import-editorial", str(tmp_path)]) == 2
    assert "No manifest.json" in capsys.readouterr().err


def test_run_fills_an_empty_database_once(content_url, engine_for):
    commands.load_initial_data(EDITORIAL_DATA if (EDITORIAL_DATA / "manifest.json").exists() else None)
    filled = count(engine_for, content_url)
    assert filled > 6 and count(engine_for, content_url, Outbox) > 0  # events wait for the running service
    commands.load_initial_data(EDITORIAL_DATA)
    assert count(engine_for, content_url) == filled
    assert cli.main(["content-demo"]) == 0 and count(engine_for, content_url) == filled
