"""Markdown to HTML through an allow-list, done once when an item is saved (its HTML is stored beside the
Markdown, so reads only copy it out).

Raw HTML in the Markdown is not trusted: python-markdown passes it through and the allow-list then removes every
tag and attribute it does not know (script and style with their content), and links and images keep only
http(s), mailto or relative URLs. Links in the public's suggestions get rel="nofollow ugc".
"""
import markdown
import nh3

from dsi.sanitise import ALLOWED_TAGS, URL_SCHEMES, plain_text

TAGS = ALLOWED_TAGS | {"h1", "h5", "h6", "hr", "img", "figure", "figcaption", "table", "thead", "tbody", "tr",
                       "th", "td", "del", "sup", "sub"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
EDITORIAL_REL = "noopener noreferrer"
PUBLIC_REL = "nofollow ugc noopener noreferrer"


def render(text: str | None, user_generated: bool = False) -> str:
    """Safe HTML of a Markdown text."""
    if not text:
        return ""
    html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel=PUBLIC_REL if user_generated else EDITORIAL_REL).strip()


def text_of(html: str) -> str:
    """The words of rendered HTML, for search and feeds."""
    return plain_text(html)
