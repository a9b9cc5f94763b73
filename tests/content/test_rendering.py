"""Markdown goes through an allow-list: hostile input is neutralised, ordinary formatting survives."""
import pytest

from services.content import items
from services.content.rendering import render
from tests.content.conftest import EDITOR

HOSTILE = [
    ("<script>alert(1)</script>", ["<script", "alert(1)"]),
    ("[click](javascript:alert(1))", ["javascript:"]),
    ("[click](JaVaScRiPt:alert(1))", ["javascript:", "JaVaScRiPt"]),
    ('<img src="x" onerror="alert(1)">', ["onerror"]),
    ("![x](javascript:alert(1))", ["javascript:"]),
    ('<a href="https://ok.test" onclick="steal()">x</a>', ["onclick"]),
    ('<iframe src="https://evil.test"></iframe>', ["<iframe"]),
    ("<style>body{display:none}</style>", ["<style", "display:none"]),
    ('<div style="position:fixed">x</div>', ["style=", "<div"]),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", ["data:"]),
    ('<svg><script>alert(1)</script></svg>', ["<svg", "<script"]),
]


@pytest.mark.parametrize("markdown, forbidden", HOSTILE)
def test_hostile_markdown_is_neutralised(markdown, forbidden):
    html = render(markdown)
    for text in forbidden:
        assert text.lower() not in html.lower()


def test_formatting_and_safe_links_survive():
    html = render("## Title\n\nSome **bold** and [a link](https://dsi.test/x).\n\n- one\n- two")
    assert "<h2>Title</h2>" in html and "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert '<a href="https://dsi.test/x" rel="noopener noreferrer">a link</a>' in html


def test_links_in_public_suggestions_are_nofollow_ugc():
    assert 'rel="nofollow ugc noopener noreferrer"' in render("[x](https://spam.test)", user_generated=True)
    assert "nofollow" not in render("[x](https://partner.test)")


def test_items_store_the_rendered_html_of_every_language(session, outbox):
    item = items.create(session, outbox, "story", {
        "title": "T", "body": "Hi <script>x()</script>[a](javascript:x())",
        "translations": {"it": {"title": "T it", "body": "Ciao <img src=x onerror=x()>"}}}, EDITOR)
    assert "<script" not in item.body_html and "javascript:" not in item.body_html
    assert "onerror" not in item.translations[0].body_html
    assert item.body.startswith("Hi <script>")  # the Markdown itself is kept as written, for the editor
