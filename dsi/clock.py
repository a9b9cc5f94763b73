"""Time in one form everywhere: aware UTC datetimes, ISO 8601 on the wire."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with its offset; SQLite hands back naive datetimes, which are UTC here."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # as moment.replace(tzinfo=timezone.utc).isoformat(), without the copy
        return moment.isoformat() + "+00:00"
    return moment.isoformat()


def parse_iso(value: str | None) -> datetime | None:
    """An ISO 8601 text as an aware datetime (UTC when it names no offset); None for nothing."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
