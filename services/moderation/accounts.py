"""Staff accounts: argon2 password hashes, sessions that logout really ends, lockout, and role checks.

A session cookie holds a random token signed with SECRET_KEY; the database keeps only its SHA-256, so neither a
leaked table nor a forged cookie opens a session.
"""
import hashlib
import secrets
from datetime import timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsi import i18n, signing
from dsi.clock import utcnow
from dsi.errors import Conflict, Forbidden, InvalidInput, RateLimited

from .models import LoginThrottle, Staff, StaffSession
from .schemas import ROLES, StaffIn, parse, staff_view  # noqa: F401 (ROLES: any staff role)

SESSION_PURPOSE = "staff-session"
THROTTLE_PURPOSE = "login-throttle"
MODERATORS, ADMINS, EDITORS = ("moderator", "admin"), ("admin",), ("editor", "admin")
WRONG = "login_failed"  # a reason of dsi.errors: the caller raises it once the failure is counted

hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))  # verified against for unknown emails: same time either way
FIRST_WAIT_SECONDS = 30


def _aware(moment):
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_staff(session: Session, body: dict, created_by: str = "") -> dict:
    data = parse(StaffIn, body)
    if session.scalar(select(Staff.id).where(Staff.email == data.email)):
        raise Conflict.because("account_exists", {"email": "already has an account"})
    staff = Staff(email=data.email, name=data.name, role=data.role, password_hash=hasher.hash(data.password),
                  created_by=created_by)
    session.add(staff)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict.because("account_exists", {"email": "already has an account"})
    return staff_view(staff)


def login(session: Session, email: str, password: str, max_failures: int, lockout_minutes: int,
          session_hours: int, client: str = "") -> dict:
    """A new session for the right password. Failures are counted per account and client address, the same
    for addresses without an account: after `max_failures` in a row that pair waits, 30 seconds at first,
    twice as long after each further failure, at most `lockout_minutes`. Other clients are not held up, so
    guessing from one address cannot lock a moderator out everywhere."""
    email = (email or "").strip().lower()[:254]
    now = utcnow()
    throttle = _throttle(session, email, client)
    if throttle.locked_until and _aware(throttle.locked_until) > now:
        retry = int((_aware(throttle.locked_until) - now).total_seconds()) + 1
        raise RateLimited.because("too_many_logins", {"retry_after": retry})
    staff = session.scalar(select(Staff).where(Staff.email == email))
    known = staff is not None and staff.active
    # an unknown address costs the same argon2 verification as a known one: the time tells nothing either
    if not (_verify(staff.password_hash if known else _DUMMY_HASH, password or "") and known):
        throttle.failures += 1
        throttle.updated_at = now
        if throttle.failures >= max_failures:
            wait = min(FIRST_WAIT_SECONDS * 2 ** (throttle.failures - max_failures), lockout_minutes * 60)
            throttle.locked_until = now + timedelta(seconds=wait)
        return {"error": WRONG}  # the caller commits the count, then refuses
    if hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = hasher.hash(password)
    if inspect(throttle).pending:
        session.expunge(throttle)
    else:
        session.delete(throttle)
    staff.last_login_at = now
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_digest(token), staff_id=staff.id,
                             expires_at=now + timedelta(hours=session_hours)))
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))  # sweep expired sessions
    session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - timedelta(days=1)),
                    execution_options={"synchronize_session": False})  # old rows only: none is in this session
    return {"session": signing.sign(SESSION_PURPOSE, token), "max_age": session_hours * 3600,
            "staff": staff_view(staff)}


def _throttle(session: Session, email: str, client: str) -> LoginThrottle:
    key = signing.digest(THROTTLE_PURPOSE, f"{email}\0{client or ''}")
    throttle = session.get(LoginThrottle, key)
    if throttle is None:
        throttle = LoginThrottle(key=key, failures=0, updated_at=utcnow())
        session.add(throttle)
    return throttle


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _session_row(session: Session, cookie: str, session_hours: int) -> StaffSession | None:
    try:
        token = signing.unsign(SESSION_PURPOSE, cookie or "", max_age=session_hours * 3600)
    except Forbidden:
        return None
    return session.get(StaffSession, _digest(token))


def authorise(session: Session, cookie: str, roles: tuple[str, ...], session_hours: int) -> dict:
    """The staff member of a session cookie, if their role is one of `roles`; Forbidden otherwise."""
    row = _session_row(session, cookie, session_hours)
    if row is None or _aware(row.expires_at) <= utcnow():
        raise Forbidden.because("log_in", {"reason": "no_session"})
    staff = session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        raise Forbidden.because("log_in", {"reason": "no_session"})
    if staff.role not in roles:
        raise Forbidden.because("role_refused", {"reason": "role"})
    return staff_view(staff)


def set_language(session: Session, staff_id: int, language: str) -> dict:
    """The console's language a staff member picked."""
    if language not in i18n.LANGUAGES:
        raise InvalidInput("Unknown language.", {"language": "expected one of " + ", ".join(i18n.LANGUAGES)})
    staff = session.get(Staff, staff_id)
    staff.language = language
    return staff_view(staff)


def logout(session: Session, cookie: str, session_hours: int) -> None:
    row = _session_row(session, cookie, session_hours)
    if row is not None:
        session.delete(row)


def list_staff(session: Session) -> list[dict]:
    return [staff_view(staff) for staff in session.scalars(select(Staff).order_by(Staff.email))]


def set_active(session: Session, staff_id: int, active: bool, actor_email: str) -> dict:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise InvalidInput("No such account.", {"staff_id": "unknown"})
    if staff.email == actor_email and not active:
        raise Conflict.because("own_account")
    staff.active = active
    if not active:
        session.execute(delete(StaffSession).where(StaffSession.staff_id == staff.id))
    return staff_view(staff)
