"""A list's total is counted once and kept (dsi.database.ListTotals) until published records change: at once after
the instance's own moderation outcomes, and on the directory's events when records are published elsewhere (a
command such as `dsi demo-data`, another instance). Real nameko container, real broker, SQLite and PostgreSQL."""
import random

from dsi.database import ListTotals
from services.directory import demo
from tests.helpers import wait_for


def test_a_list_total_follows_records_published_elsewhere(directory, session, outbox):
    demo.load_demo(session, outbox, 5, random.Random(1))
    session.commit()  # relayed by the running service's outbox timer, as a command's events are
    wait_for(lambda: directory.list_records("organisation", {}, 1, 2)["total"] == 5)
    demo.load_demo(session, outbox, 3, random.Random(2))
    session.commit()
    wait_for(lambda: directory.list_records("organisation", {}, 1, 2)["total"] == 8)  # kept 60 s without the event


def test_totals_are_kept_by_list_forgotten_on_change_and_never_kept_across_one():
    totals = ListTotals()
    totals.setup()
    counted = []

    def count(value):
        counted.append(value)
        return value

    assert totals.total(("project",), lambda: count(10)) == 10
    assert totals.total(("project",), lambda: count(11)) == 10  # kept
    assert totals.total(("project", ("country", "ES")), lambda: count(3)) == 3  # another list: its own
    totals.forget()
    assert totals.total(("project",), lambda: count(12)) == 12

    def count_while_a_change_lands():
        totals.forget()
        return count(13)

    assert totals.total(("organisation",), count_while_a_change_lands) == 13
    assert totals.total(("organisation",), lambda: count(14)) == 14  # the count made during the change was not kept
    assert counted == [10, 3, 12, 13, 14]
