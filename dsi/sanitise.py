"""User-supplied HTML: an allow-list keeps formatting and safe links and drops everything else."""
import html
import re

import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "blockquote", "h2", "h3", "h4", "code", "pre",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(text: str | None) -> str:
    """HTML safe to render as-is: allowed tags only, links limited to http(s) and mailto."""
    if not text:
        return ""
    return nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    ).strip()


def plain_text(text: str | None) -> str:
    """The words of an HTML fragment, without markup, with white space folded."""
    if not text:
        return ""
    stripped = nh3.clean(re.sub(r"<(br|/p|/li|/h\d)\s*/?>", " ", text, flags=re.I), tags=set())
    return re.sub(r"\s+", " ", html.unescape(stripped)).strip()
