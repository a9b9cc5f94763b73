"""`dsi backup DIR` and `dsi restore DIR`: every service's database and the uploaded files, with a manifest.

A SQLite database is copied with SQLite's online backup (consistent while the services write); a PostgreSQL one
with `pg_dump --format=custom`, restored with `pg_restore`. Uploaded files (MEDIA_DIR) are copied as they are.
The manifest lists each file with its size and SHA-256, each database's kind, schema revision and row counts, and
the time; a restore checks all of it before it touches anything and the row counts after. The search index is
not backed up: `dsi reindex` rebuilds it from the restored directory.
"""
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import make_url

from dsi.database import make_engine, refresh_statistics
from dsi.errors import PlatformError
from dsi.settings import child_environment, database_url, media_dir

MANIFEST = "manifest.json"
FORMAT = 1
MEDIA = "media"
SQLITE, POSTGRESQL = "sqlite", "postgresql"


class BackupError(PlatformError):
    """A backup that cannot be made, or one that must not be restored (corrupted, mismatched, or a target that
    already holds data)."""

    code, status = "BACKUP_REFUSED", 409


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in (SQLITE, POSTGRESQL):
        raise BackupError(f"cannot back up a {backend} database: only SQLite and PostgreSQL are supported")
    return backend


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url} is not a SQLite file")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict]:
    """The URL as libpq takes it (no SQLAlchemy driver, no password on a command line) and the environment that
    carries the password."""
    parsed = make_url(url)
    environment = child_environment(**({"PGPASSWORD": parsed.password} if parsed.password else {}))
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _client(program: str) -> str:
    path = shutil.which(program)
    if not path:
        raise BackupError(f"{program} is not installed: install PostgreSQL's client programs "
                          f"(Debian: apt-get install postgresql-client)")
    return path


def _client_major(program: str) -> int:
    output = subprocess.run([_client(program), "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"\)\s+(\d+)", output)  # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    if not found:
        raise BackupError(f"cannot tell the version of {program} from {output.strip()!r}")
    return int(found.group(1))


def _run(command: list[str], environment: dict, what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")


def revision_and_counts(url: str) -> tuple[str | None, dict[str, int]]:
    """The database's Alembic revision and the row count of each of its tables."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            names = sorted(inspect(connection).get_table_names())
            counts = {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
                      for name in names}
            revision = None
            if "alembic_version" in names:
                revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    return revision, counts


def _dump(service: str, url: str, folder: Path) -> dict:
    kind = kind_of(url)
    if kind == SQLITE:
        source_path = _sqlite_path(url)
        if not source_path.exists():
            raise BackupError(f"{service}: no database at {source_path}")
        target = folder / f"{service}.sqlite3"
        source, copy = sqlite3.connect(source_path), sqlite3.connect(target)
        try:
            source.backup(copy)  # a consistent snapshot, even while the service writes
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, without -wal and -shm beside it
        finally:
            copy.close()
            source.close()
    else:
        target = folder / f"{service}.pgdump"
        libpq_url, environment = _libpq(url)
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                server = int(connection.execute(text("SHOW server_version_num")).scalar()) // 10000
        finally:
            engine.dispose()
        client = _client_major("pg_dump")
        if client < server:
            raise BackupError(f"pg_dump {client} cannot dump a PostgreSQL {server} server: install "
                              f"postgresql-client-{server} or newer")
        _run([_client("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
              f"--dbname={libpq_url}"], environment, f"{service}: pg_dump")
    revision, counts = revision_and_counts(url)
    return {"service": service, "kind": kind, "file": target.name, "size": target.stat().st_size,
            "sha256": sha256(target), "revision": revision, "rows": counts}


def _media_files(media_dir: Path) -> list[Path]:
    if not media_dir.is_dir():
        return []
    return sorted(path for path in media_dir.rglob("*") if path.is_file())


def backup(folder: Path, databases: dict[str, str], media_dir: Path) -> dict:
    """Back up each service's database (`databases`: service → URL) and the files under `media_dir` into
    `folder`, which must be new or empty; the manifest is written last, so a folder without one is incomplete."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    entries = [_dump(service, url, folder) for service, url in sorted(databases.items())]
    files = []
    for path in _media_files(media_dir):
        relative = path.relative_to(media_dir)
        target = folder / MEDIA / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        files.append({"path": relative.as_posix(), "size": target.stat().st_size, "sha256": sha256(target)})
    manifest = {"format": FORMAT, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "databases": entries, "media": files,
                "not_included": {"search": "the index is rebuilt from the directory: dsi reindex"}}
    partial = folder / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    partial.replace(folder / MANIFEST)
    return manifest


def _check_file(folder: Path, name: str, size: int, digest: str) -> None:
    path = folder / name
    if not path.is_file():
        raise BackupError(f"the backup is incomplete: {name} is missing")
    if path.stat().st_size != size or sha256(path) != digest:
        raise BackupError(f"the backup is corrupted: {name} does not match its checksum in the manifest")


def verify(folder: Path) -> dict:
    """The backup's manifest, once every file it lists is there with its size and checksum."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no {MANIFEST}: not a backup, or an unfinished one") from None
    except ValueError as error:
        raise BackupError(f"the backup's {MANIFEST} is corrupted: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"the backup's {MANIFEST} is not of format {FORMAT}: made by another release?")
    for entry in manifest["databases"]:
        _check_file(folder, entry["file"], entry["size"], entry["sha256"])
    for entry in manifest["media"]:
        if Path(entry["path"]).is_absolute() or ".." in Path(entry["path"]).parts:
            raise BackupError(f"the backup is corrupted: media path {entry['path']!r} leaves the media folder")
        _check_file(folder / MEDIA, entry["path"], entry["size"], entry["sha256"])
    return manifest


def _known_revisions(service: str) -> set[str]:
    from alembic.script import ScriptDirectory

    from dsi.migrations import alembic_config
    return {script.revision for script in ScriptDirectory.from_config(alembic_config(service, "")).walk_revisions()}


def _holds_data(url: str) -> bool:
    if kind_of(url) == SQLITE and not _sqlite_path(url).exists():
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return bool(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def _check_target(entry: dict, url: str | None, replace: bool) -> None:
    service = entry["service"]
    if url is None:
        raise BackupError(f"the backup holds {service}'s database, which this platform does not know")
    if kind_of(url) != entry["kind"]:
        raise BackupError(f"{service}: the backup is a {entry['kind']} database and the target is {kind_of(url)}: "
                          f"restore into the same kind of database")
    if entry["revision"] is not None and entry["revision"] not in _known_revisions(service):
        raise BackupError(f"{service}: the backup's schema revision {entry['revision']} is unknown to this release "
                          f"(made by a newer one?): restore with the release that made it")
    if not replace and _holds_data(url):
        raise BackupError(f"{service}: the target database already has tables: restore into an empty one, or "
                          f"pass --replace to overwrite it")


def _load(folder: Path, entry: dict, url: str, replace: bool) -> None:
    source = folder / entry["file"]
    if entry["kind"] == SQLITE:
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        backup_copy, target = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(path)
        try:
            backup_copy.backup(target)  # page by page into the target, replacing what it held
        finally:
            target.close()
            backup_copy.close()
    else:
        libpq_url, environment = _libpq(url)
        options = ["--clean", "--if-exists"] if replace else []
        _run([_client("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              *options, f"--dbname={libpq_url}", str(source)], environment, f"{entry['service']}: pg_restore")
        refresh_statistics(url)  # pg_restore brings rows, not the planner's statistics


def restore(folder: Path, databases: dict[str, str], media_dir: Path, replace: bool = False) -> dict:
    """Restore a backup made by `backup` into the databases (service → URL) and `media_dir`. Everything is
    checked first (checksums, kinds, revisions, empty targets); nothing is written if a check fails."""
    folder, media_dir = Path(folder), Path(media_dir)
    manifest = verify(folder)
    for entry in manifest["databases"]:
        _check_target(entry, databases.get(entry["service"]), replace)
    if manifest["media"] and not replace and _media_files(media_dir):
        raise BackupError(f"{media_dir} already holds files: restore into an empty folder, or pass --replace")
    for entry in manifest["databases"]:
        url = databases[entry["service"]]
        _load(folder, entry, url, replace)
        revision, counts = revision_and_counts(url)
        if counts != entry["rows"] or revision != entry["revision"]:
            raise BackupError(f"{entry['service']}: the restored database differs from the backup "
                              f"(rows {counts} against {entry['rows']})")
    for entry in manifest["media"]:
        target = media_dir / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / MEDIA / entry["path"], target)
    return manifest


def platform_targets() -> tuple[dict[str, str], Path]:
    """Every service with a database, at the URL its config reads (SERVICE_DB_URL), and the media folder."""
    from dsi.migrations import SERVICES_DIR
    from dsi.platform import SERVICES

    names = [name for name in SERVICES if (SERVICES_DIR / name / "migrations").is_dir()]
    return {name: database_url(name) for name in names}, media_dir()


def run_backup(args) -> None:
    databases, media_dir = platform_targets()
    manifest = backup(Path(args.folder), databases, media_dir)
    for entry in manifest["databases"]:
        print(f"{entry['service']}: {entry['kind']} at revision {entry['revision']}, "
              f"{sum(entry['rows'].values())} rows, {entry['size']} bytes")
    print(f"media: {len(manifest['media'])} files")
    print("search: not backed up; after a restore run `dsi reindex`")


def run_restore(args) -> None:
    databases, media_dir = platform_targets()
    manifest = restore(Path(args.folder), databases, media_dir, replace=args.replace)
    for entry in manifest["databases"]:
        print(f"{entry['service']}: restored, revision {entry['revision']}, {sum(entry['rows'].values())} rows")
    print(f"media: {len(manifest['media'])} files restored")
    print("next: `dsi migrate` (if this release is newer), start the services, then `dsi reindex`")


def register(commands) -> None:
    command = commands.add_parser("backup", help="back up every service's database and the uploaded files")
    command.add_argument("folder", metavar="DIR", help="a new or empty folder")
    command.set_defaults(handler=run_backup)
    command = commands.add_parser("restore", help="restore a backup made by `dsi backup` (services stopped)")
    command.add_argument("folder", metavar="DIR")
    command.add_argument("--replace", action="store_true", help="overwrite databases and files that hold data")
    command.set_defaults(handler=run_restore)
