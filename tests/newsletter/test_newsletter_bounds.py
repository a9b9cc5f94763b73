"""Bounds at the owner, on SQLite and PostgreSQL: edition ids past what a column holds and deep archive pages
are clear errors, never a driver failure or work proportional to the number."""
import pytest

from dsi.errors import InvalidInput, NotFound
from dsi.validation import parse_paging
from services.newsletter import editions


@pytest.mark.parametrize("edition_id", [2**63, 10**30, "9223372036854775808", 0, -5])
def test_edition_ids_out_of_range_are_not_found(session, edition_id):
    with pytest.raises(NotFound):
        editions.get(session, edition_id)


@pytest.mark.parametrize("edition_id", ["1; drop", 1.5, None, "x" * 100])
def test_edition_ids_that_are_no_numbers_are_invalid(session, edition_id):
    with pytest.raises(InvalidInput):
        editions.get(session, edition_id)


@pytest.mark.parametrize("page, per_page", [(10**9, 20), (0, 20), (1, 0), (1, 101), (2**64, 2**64), ("x", 1)])
def test_archive_paging_is_bounded(page, per_page):
    with pytest.raises(InvalidInput):
        parse_paging(page, per_page)


def test_the_deepest_archive_page_answers(session):
    assert editions.archive(session, *parse_paging(500, 20))["items"] == []
