"""The editorial sections other pages show: the home page's latest stories, featured case studies, next events
and funding closing soon; a cluster page's text, lead partner and latest content; what is written about a record. Each part is left out while the
content service is down, so those pages still answer."""
from ..common.http import optional

HOME_SIZE = 3


def home_sections(content, lang: str) -> dict:
    def items(kind, **filters):
        found = optional(content.list_items, kind, {"lang": lang, "per_page": HOME_SIZE, **filters})
        return (found or {}).get("items", [])

    funding = [item for item in items("funding", status="open", per_page=10) if item.get("closing_soon")]
    return {"stories": items("story"), "case_studies": items("case_study", featured="true"),
            "events": items("event", when="upcoming"), "funding": funding[:HOME_SIZE]}


def cluster_page(content, search, slug: str, lang: str) -> dict | None:
    """The cluster's page, its lead partner linked to the directory's organisation of that name when there is one."""
    page = optional(content.get_cluster, slug, lang)
    if not page or "redirect" in page:
        return None
    partner = page.get("lead_partner") or ""
    if partner and not page.get("lead_partner_id"):
        found = optional(search.query, {"q": partner, "kind": ["organisation"], "per_page": 5}) or {}
        page["lead_partner_id"] = next((item["id"] for item in found.get("items", [])
                                        if item.get("name", "").casefold() == partner.casefold()), None)
    return page


def about_record(content, kind: str, record_id: int, lang: str) -> list[dict]:
    """Case studies and stories about a directory record, for its page."""
    found = []
    for content_kind in ("case_study", "story"):
        answer = optional(content.list_items, content_kind, {kind: record_id, "lang": lang, "per_page": HOME_SIZE})
        found += (answer or {}).get("items", [])
    return found
