"""Staff accounts: argon2 hashes, sessions, lockout and role checks (domain, on SQLite and PostgreSQL)."""
import pytest
from sqlalchemy import select

from dsi.errors import Conflict, Forbidden, InvalidInput, RateLimited
from services.moderation import accounts
from services.moderation.models import LoginThrottle, Staff, StaffSession

from tests.moderation.conftest import PASSWORD


def log_in(session, email, password=PASSWORD, max_failures=3, client="198.51.100.7"):
    result = accounts.login(session, email, password, max_failures, 15, 12, client=client)
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


def test_wrong_passwords_slow_down_that_client_for_that_account(session, make_staff):
    make_staff("moderator", "mod@example.org")
    assert log_in(session, "nobody@example.org", "whatever")["error"] == accounts.WRONG  # unknown: the same answer
    for _ in range(3):
        assert log_in(session, "mod@example.org", "wrong password")["error"] == accounts.WRONG
    with pytest.raises(RateLimited) as locked:
        log_in(session, "mod@example.org")  # even the right password, while locked
    assert 0 < locked.value.details["retry_after"] <= accounts.FIRST_WAIT_SECONDS + 1
    # the moderator, from their own address, is not locked out by someone guessing elsewhere
    assert "session" in log_in(session, "mod@example.org", client="203.0.113.9")

    # each further failure after the wait doubles it, up to the lockout
    throttle = session.scalars(select(LoginThrottle).where(LoginThrottle.locked_until.is_not(None))).one()
    throttle.locked_until = None
    session.commit()
    assert log_in(session, "mod@example.org", "wrong again")["error"] == accounts.WRONG
    with pytest.raises(RateLimited) as longer:
        log_in(session, "mod@example.org")
    assert accounts.FIRST_WAIT_SECONDS < longer.value.details["retry_after"] <= 2 * accounts.FIRST_WAIT_SECONDS + 1
    throttle.locked_until = None
    session.commit()
    assert "session" in log_in(session, "mod@example.org")  # success clears the count


def test_unknown_accounts_lock_exactly_as_known_ones(session, make_staff):
    make_staff("moderator", "mod@example.org")
    outcomes = {}
    for email in ("mod@example.org", "nobody@example.org"):
        seen = []
        for _ in range(4):
            try:
                seen.append(log_in(session, email, "wrong password").get("error"))
            except RateLimited as limited:
                seen.append(("locked", limited.message, limited.details["retry_after"] > 0))
        outcomes[email] = seen
    assert outcomes["mod@example.org"] == outcomes["nobody@example.org"]
    assert outcomes["nobody@example.org"][-1][0] == "locked"
    stored = [row.key for row in session.scalars(select(LoginThrottle))]
    assert stored and not any("@" in key or "example" in key for key in stored)  # keyed digests only


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
    assert log_in(session, "mod@example.org")["error"] == accounts.WRONG  # as for an unknown account
