"""`dsi backup` and `dsi restore` for real, on SQLite files and on PostgreSQL databases (pg_dump / pg_restore):
a platform with data is backed up, wiped and restored, and must come back row for row and byte for byte."""
import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, table, text
from sqlalchemy.orm import Session

from dsi import cli, events, platform as platform_services
from dsi.backup import MANIFEST, BackupError, backup, restore, revision_and_counts
from dsi.database import create_databases, drop_databases, make_engine
from dsi.messaging import OutboxWriter
from dsi.migrations import SERVICES_DIR, upgrade
from services.directory import records
from services.directory.models import Outbox
from services.moderation import accounts
from tests.factories import organisation_body, project_body

SERVICES = tuple(name for name in platform_services.SERVICES if (SERVICES_DIR / name / "migrations").is_dir())
IMAGE = bytes(range(256)) * 40 + b"\x00\xff end"  # any bytes, nulls included


class Databases:
    """One empty database per service on a backend; `wipe` drops and recreates them, as after a disaster."""

    def __init__(self, backend: str, tmp_path: Path, server: str | None):
        self.backend, self.server = backend, server
        if backend == "sqlite":
            self.urls = {service: f"sqlite:///{tmp_path}/var/{service}.db" for service in SERVICES}
        else:
            self.names = {service: f"dsi_backup_{service}_{uuid.uuid4().hex[:8]}" for service in SERVICES}
            made = create_databases(server, self.names.values())
            self.urls = {service: made[name] for service, name in self.names.items()}

    def wipe(self):
        if self.backend == "sqlite":
            for url in self.urls.values():
                for suffix in ("", "-wal", "-shm"):
                    Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        else:
            drop_databases(self.server, self.names.values())
            create_databases(self.server, self.names.values())

    def drop(self):
        if self.backend == "postgresql":
            drop_databases(self.server, self.names.values())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def platform(request, tmp_path, monkeypatch):
    """A migrated platform holding data, its databases named by the variables `dsi` reads."""
    server = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    databases = Databases(request.param, tmp_path, server)
    for service, url in databases.urls.items():
        monkeypatch.setenv(f"{service.upper()}_DB_URL", url)
        upgrade(service, url)
    media = tmp_path / "media"
    monkeypatch.setenv("MEDIA_DIR", str(media))
    (media / "stories" / "2026").mkdir(parents=True)
    (media / "stories" / "2026" / "café.png").write_bytes(IMAGE)
    (media / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    fill(databases.urls)
    yield databases
    databases.drop()


def fill(urls, staff="ana@example.org"):
    directory, moderation = make_engine(urls["directory"]), make_engine(urls["moderation"])
    outbox = OutboxWriter(Outbox, events.DIRECTORY)
    with Session(directory) as session, session.begin():
        for body in (organisation_body(name="Fundació Barceló", city="Palma"), project_body(name="Care ☂ Map")):
            submitted = records.submit(session, outbox, body, "http://dsi.test")
            records.apply_decision(session, outbox, {"type": events.SUBMISSION_APPROVED, "payload": {
                "submission_id": submitted["id"], "reason_code": None, "reason": None}}, "http://dsi.test")
        records.submit(session, outbox, organisation_body(name="Pending Ltd"), "http://dsi.test")
    with Session(moderation) as session, session.begin():
        accounts.create_staff(session, {"email": staff, "name": "Ana Ñúñez", "role": "admin",
                                        "password": "a long enough password"})
    directory.dispose()
    moderation.dispose()


def contents(url) -> dict:
    """Every row of every table, in primary-key order, as Python values: equal only if identical."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            found = {}
            for name in inspector.get_table_names():
                keys = inspector.get_pk_constraint(name)["constrained_columns"]
                rows = connection.execute(select(text("*")).select_from(table(name)).order_by(
                    *(text(f'"{key}"') for key in keys))).all()
                found[name] = [tuple(row) for row in rows]
            return found
    finally:
        engine.dispose()


def dsi(*argv) -> int:
    return cli.main(list(argv))


def test_backup_wipe_restore_gives_back_every_row_and_file(platform, tmp_path, capsys):
    before = {service: contents(url) for service, url in platform.urls.items()}
    assert len(before["directory"]["records"]) == 3 and len(before["moderation"]["staff"]) == 1

    assert dsi("backup", str(tmp_path / "backup")) == 0
    printed = capsys.readouterr().out
    assert "directory:" in printed and "media: 2 files" in printed and "dsi reindex" in printed
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert [entry["service"] for entry in manifest["databases"]] == sorted(SERVICES)
    for entry in manifest["databases"]:
        assert entry["kind"] == platform.backend
        assert entry["revision"] and entry["sha256"] and entry["size"] > 0
        assert entry["rows"] == revision_and_counts(platform.urls[entry["service"]])[1]
    assert {entry["path"] for entry in manifest["media"]} == {"stories/2026/café.png", "logo.svg"}
    assert manifest["created_at"].endswith("+00:00")

    platform.wipe()
    media = Path(os.environ["MEDIA_DIR"])
    for path in sorted(media.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    assert all(not revision_and_counts(url)[1] for url in platform.urls.values())

    assert dsi("restore", str(tmp_path / "backup")) == 0
    assert {service: contents(url) for service, url in platform.urls.items()} == before
    if platform.backend == "postgresql":  # pg_restore brings no statistics: the restore gathered them
        engine = make_engine(platform.urls["directory"])
        with engine.connect() as connection:
            analyzed = set(connection.scalars(text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")))
        engine.dispose()
        assert {"records", "record_links"} <= analyzed
    record = before["directory"]["records"][0]
    assert "Fundació Barceló" in record  # the same record, to the byte
    assert (media / "stories" / "2026" / "café.png").read_bytes() == IMAGE
    # The restored platform works: the moderator signs in with her password.
    with Session(make_engine(platform.urls["moderation"])) as session:
        staff = session.scalars(select(accounts.Staff)).one()
        assert accounts.hasher.verify(staff.password_hash, "a long enough password")


def test_a_corrupted_backup_is_refused_before_anything_is_touched(platform, tmp_path, capsys):
    folder = tmp_path / "backup"
    assert dsi("backup", str(folder)) == 0
    dump = next(folder.glob("directory.*"))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    platform.wipe()
    capsys.readouterr()

    assert dsi("restore", str(folder)) == 2
    assert f"the backup is corrupted: {dump.name} does not match its checksum" in capsys.readouterr().err
    assert all(not revision_and_counts(url)[1] for url in platform.urls.values())  # nothing restored

    (folder / MANIFEST).unlink()
    with pytest.raises(BackupError, match="holds no manifest.json"):
        restore(folder, platform.urls, tmp_path / "media")


def test_a_mismatched_backup_or_a_target_with_data_is_refused(platform, tmp_path):
    folder = tmp_path / "backup"
    backup(folder, platform.urls, tmp_path / "media")

    with pytest.raises(BackupError, match="already has tables: restore into an empty one, or pass --replace"):
        restore(folder, platform.urls, tmp_path / "elsewhere")

    other = "sqlite:///x.db" if platform.backend == "postgresql" else "postgresql://nobody@127.0.0.1/none"
    with pytest.raises(BackupError, match="restore into the same kind of database"):
        restore(folder, {**platform.urls, "moderation": other}, tmp_path / "elsewhere", replace=True)

    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["databases"][0]["revision"] = "ffffffffffff"
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="schema revision ffffffffffff is unknown to this release"):
        restore(folder, platform.urls, tmp_path / "elsewhere", replace=True)

    with pytest.raises(BackupError, match="is not empty"):
        backup(folder, platform.urls, tmp_path / "media")


def test_replace_overwrites_a_platform_that_moved_on(platform, tmp_path):
    folder = tmp_path / "backup"
    backup(folder, platform.urls, tmp_path / "media")
    before = contents(platform.urls["directory"])
    fill(platform.urls, staff="bo@example.org")  # more rows after the backup
    assert contents(platform.urls["directory"]) != before

    restore(folder, platform.urls, tmp_path / "media", replace=True)
    assert contents(platform.urls["directory"]) == before
