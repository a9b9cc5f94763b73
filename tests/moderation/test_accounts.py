"""Staff accounts: argon2 hashes, sessions, lockout and role checks (domain, on SQLite and PostgreSQL)."""
import pytest
from sqlalchemy import select

from dsi.errors import Conflict, Forbidden, InvalidInput, RateLimited
from services.moderation import accounts
from services.moderation.models import Staff, StaffSession

from tests.moderation.conftest import PASSWORD


def log_in(session, email, password=PASSWORD, max_failures=3):
    result = accounts.login(session, email, password, max_failures, 15, 12)
    session.commit()
    return result


def test_passwords_are_stored_as_argon2id(session, make_staff):
    staff = make_staff("admin", "Admin@EXAMPLE.org")
    row = session.get(Staff, staff["id"])
    assert staff["email"] == "admin@example.org" and row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash


def test_account_form_is_validated(session, make_staff):
    with pytest.raises(InvalidInput) as refused:
        accounts.create_staff(session, {"email": "nope", "role": "overlord", "password": "short"})
    assert set(refused.value.details) == {"email", "role", "password"}
    make_staff("editor", "ed@example.org")
    with pytest.raises(Conflict):
        accounts.create_staff(session, {"email": "ED@example.org", "role": "editor", "password": PASSWORD})


def test_login_roles_and_logout(session, make_staff):
    make_staff("moderator", "mod@example.org")
    make_staff("editor", "ed@example.org")
    moderator = log_in(session, "mod@example.org")["session"]
    editor = log_in(session, "ed@example.org")["session"]
    assert accounts.authorise(session, moderator, accounts.MODERATORS, 12)["email"] == "mod@example.org"
    with pytest.raises(Forbidden) as refused:
        accounts.authorise(session, editor, accounts.MODERATORS, 12)
    assert refused.value.details == {"reason": "role"}
    for forged in ("", "nonsense", moderator[:-2] + "xx"):
        with pytest.raises(Forbidden):
            accounts.authorise(session, forged, accounts.MODERATORS, 12)
    # the table holds only a digest of the token
    assert moderator.split(".")[0] not in {row.token_hash for row in session.scalars(select(StaffSession))}
    accounts.logout(session, moderator, 12)
    session.commit()
    with pytest.raises(Forbidden):
        accounts.authorise(session, moderator, accounts.MODERATORS, 12)


def test_wrong_passwords_lock_the_account(session, make_staff):
    make_staff("moderator", "mod@example.org")
    with pytest.raises(Forbidden):
        log_in(session, "nobody@example.org", "whatever")  # unknown address: the same answer
    for _ in range(3):
        assert log_in(session, "mod@example.org", "wrong password")["error"] == accounts.WRONG
    with pytest.raises(RateLimited) as locked:
        log_in(session, "mod@example.org")  # even the right password, while locked
    assert locked.value.details["retry_after"] > 0
    row = session.scalar(select(Staff).where(Staff.email == "mod@example.org"))
    row.locked_until = None
    session.commit()
    assert "session" in log_in(session, "mod@example.org")


def test_deactivating_an_account_ends_its_sessions(session, make_staff):
    admin = make_staff("admin", "admin@example.org")
    moderator = make_staff("moderator", "mod@example.org")
    cookie = log_in(session, "mod@example.org")["session"]
    with pytest.raises(Conflict):
        accounts.set_active(session, admin["id"], False, "admin@example.org")
    accounts.set_active(session, moderator["id"], False, "admin@example.org")
    session.commit()
    with pytest.raises(Forbidden):
        accounts.authorise(session, cookie, accounts.MODERATORS, 12)
    with pytest.raises(Forbidden):
        log_in(session, "mod@example.org")
