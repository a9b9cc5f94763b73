"""The public view of an item, in a visitor's language, and the editor's view of it."""
from collections import namedtuple
from datetime import date, timedelta
from operator import itemgetter

from dsi import countries, vocab
from dsi.clock import iso

from .kinds import ATTENDANCE, KINDS, RESOURCE_TYPES, STORY_CATEGORIES
from .models import Item
from .rendering import text_of

CLOSING_SOON_DAYS = 14
_COMMON = {"title", "slug", "lang", "summary", "body", "cluster", "social_areas", "images", "translations"}


def _term(vocabulary: dict[str, str], value: str | None) -> dict | None:
    return {"value": value, "label": vocabulary.get(value, value)} if value else None


# A translation and a term as listing's Core reads carry them (JSON arrays), read like the ORM's rows.
TranslationText = namedtuple("TranslationText", "lang title summary body_html", defaults=("",))
Term = namedtuple("Term", "facet value")
BY_POSITION = itemgetter(2)


def _terms(terms, facet: str) -> list[str]:
    return [term.value for term in terms if term.facet == facet]


def public_item(item: Item, lang: str | None = None, full: bool = True, today: date | None = None) -> dict:
    """An item as the public sees it: in `lang` when translated, else in its original language, with `lang`
    saying which one it is."""
    return _public_view(item, item.translations, item.terms, lang, full, today)


def public_row(row, lang: str | None = None, full: bool = True, today: date | None = None) -> dict:
    """public_item of a row of listing's Core reads: the item's columns, its `terms` as [[facet, value, position],
    …] and its `translations` as [[lang, title, summary(, body_html)], …], each in any order (None for none on
    PostgreSQL)."""
    translations = [TranslationText(*translation) for translation in sorted(row.translations or ())]  # by lang
    terms = [Term(facet, value) for facet, value, _ in sorted(row.terms or (), key=BY_POSITION)]
    return _public_view(row, translations, terms, lang, full, today)


def _public_view(item, translations, terms, lang, full, today) -> dict:
    """`item`: an Item or a row with its columns; `translations` in language order, `terms` in position order."""
    kind = KINDS[item.kind]
    translation = next((t for t in translations if t.lang == lang), None) if lang != item.lang else None
    shown = translation or item  # body_html only read when shown: lists leave it unloaded
    title, summary = shown.title, shown.summary
    source = item.source or {}
    view = {
        "id": item.id,
        "kind": item.kind,
        "name": title,
        "title": title,
        "slug": item.slug,
        "url": kind.path(item.slug),
        "lang": translation.lang if translation else item.lang,
        "original_lang": item.lang,
        "languages": [item.lang] + [t.lang for t in translations],
        "summary": summary,
        "cluster": _term(vocab.SOCIAL_AREAS, item.cluster),
        "social_areas": [_term(vocab.SOCIAL_AREAS, value) for value in _terms(terms, "social_areas")],
        "images": source.get("images", []),
        "published_at": iso(item.published_at),
        "updated_at": iso(item.updated_at),
        "version": item.version,
    }
    if full:
        view["body_html"] = shown.body_html
    view.update({name: value for name, value in source.items()
                 if name not in _COMMON and name not in view and name != "kind"})
    _kind_specific(item, terms, view, today or date.today())
    return view


def _kind_specific(item, terms, view: dict, today: date) -> None:
    if item.kind == "story":
        view["category"] = _term(STORY_CATEGORIES, item.category)
    elif item.kind == "resource":
        view["resource_type"] = _term(RESOURCE_TYPES, item.category)
    elif item.kind == "event":
        view.update({
            "starts_at": iso(item.starts_at), "ends_at": iso(item.ends_at),
            "attendance": _term(ATTENDANCE, item.attendance),
            "country_name": countries.name(item.country) if item.country else None,
            "ics_url": f"/events/{item.slug}.ics",
        })
    elif item.kind == "funding":
        closes = item.closes_on
        view.update({
            "funding_types": [_term(vocab.FUNDING_TYPES, value) for value in _terms(terms, "funding_types")],
            "targets": [_term(vocab.FUNDING_TARGETS, value) for value in _terms(terms, "targets")],
            "open": item.rolling or (closes is not None and closes >= today),
            "closing_soon": closes is not None and today <= closes <= today + timedelta(days=CLOSING_SOON_DAYS),
        })


def event_item(item: Item) -> dict:
    """What content_published / content_updated carry: the public item in its original language with every
    translation and its plain text, enough for search to index and the newsletter to compose."""
    view = public_item(item)
    view["body_text"] = text_of(item.body_html)
    view["translations"] = {
        t.lang: {"title": t.title, "summary": t.summary, "body_html": t.body_html, "body_text": text_of(t.body_html)}
        for t in item.translations
    }
    return view


def editor_item(item: Item) -> dict:
    """The console's view: the public view plus state, schedule and the editable fields."""
    return {**public_item(item), "state": item.state, "publish_at": iso(item.publish_at), "origin": item.origin,
            "fields": item.source, "created_at": iso(item.created_at), "updated_by": item.updated_by,
            "edit_version": item.edit_version}
