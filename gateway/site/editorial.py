"""The editorial sections other pages show: the home page's latest stories, featured case studies, next events
and funding closing soon; a cluster page's text, lead partner and latest content; what is written about a record. Each part is left out while the
content service is down, so those pages still answer."""
from ..common.http import optional

NO_SECTIONS = {"stories": [], "case_studies": [], "events": [], "funding": []}


def home_sections(content, lang: str) -> dict | None:
    """The four sections in one call to content; None while it does not answer."""
    return optional(content.home_sections, lang)


def cluster_page(content, directory, slug: str, lang: str) -> dict | None:
    """The cluster's page, its lead partner linked to the directory's organisation of that name when there is one
    (`lead_partner_id` None; left out while the directory does not answer)."""
    page = optional(content.get_cluster, slug, lang)
    if not page or "redirect" in page:
        return None
    partner = page.get("lead_partner") or ""
    if partner and not page.get("lead_partner_id"):
        found = optional(directory.find_by_names, "organisation", [partner])
        if found is not None:
            page["lead_partner_id"] = (found.get(partner) or {}).get("id")
    return page


def complete(page: dict | None) -> bool:
    """A cluster page worth keeping: found, and its lead partner looked up when it has one."""
    return bool(page) and (not page.get("lead_partner") or "lead_partner_id" in page)


def about_record(content, written_about: dict | None, kind: str, record_id: int, lang: str) -> list[dict]:
    """Case studies and stories about a directory record, for its page: asked for only when `written_about`
    (content's records_written_about, kept) names the record, or is not known."""
    if written_about is not None and record_id not in written_about.get(kind, ()):
        return []
    return optional(content.about_record, kind, record_id, lang) or []
