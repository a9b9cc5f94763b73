"""Keeps the interface's gettext catalogues in step with the templates.

    python -m gateway.translations.catalogues

extracts every translatable string of gateway/templates, of the newsletter's mails and digest (templates, and the
`i18n.gettext(language, "…")` phrases of its editions.py), and the vocabulary labels the pages show, into
messages.pot, and merges it into each language's messages.po: new strings arrive untranslated (they show in
English until translated), strings no longer used become obsolete. Catalogues are compiled in memory when the
gateway starts (gateway/i18n.py); no .mo file is kept.
"""
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from dsi import errors, kinds, vocab
from gateway.common import i18n
from gateway.site import dataviz, forms, views

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TEMPLATES = HERE.parent / "templates"
NEWSLETTER = ROOT / "services" / "newsletter"  # every mail the platform sends, and the digest (dsi/i18n.py)
POT = HERE / "messages.pot"
JINJA = {"extensions": "jinja2.ext.i18n,gateway.common.templating.KeptParts", "trimmed": "true"}
TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
SOURCES = (  # (folder, method map, options, keywords)
    (TEMPLATES, [("**.html", "jinja2")], {"**.html": JINJA}, TEMPLATE_KEYWORDS),
    (NEWSLETTER / "templates", [("**.html", "jinja2"), ("**.txt", "jinja2")], {"**.html": JINJA, "**.txt": JINJA},
     TEMPLATE_KEYWORDS),
    (NEWSLETTER, [("editions.py", "python")], {}, {"gettext": (2,)}),  # i18n.gettext(language, "…")
)
# Labels the pages translate at run time: vocabularies, report reasons, form and service errors, record kinds.
VOCABULARY_SOURCE = "dsi/vocab.py"


def template() -> Catalog:
    catalog = Catalog(project="DSI network", msgid_bugs_address="", charset="utf-8", fuzzy=False)
    for folder, method_map, options, keywords in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                folder, method_map, options, keywords=keywords):
            catalog.add(message, None, [(f"{folder.relative_to(ROOT)}/{filename}", lineno)],
                        auto_comments=comments, context=context)
    labels = [label for name, vocabulary in vocab.VOCABULARIES.items() for label in vocabulary.values()]
    labels += [label for vocabulary in (vocab.FUNDING_TYPES, vocab.FUNDING_TARGETS, vocab.STORY_CATEGORIES,
                                        vocab.RESOURCE_TYPES, vocab.ATTENDANCE) for label in vocabulary.values()]
    labels += list(vocab.REPORT_REASONS.values())  # the record page's report form
    labels += list(vocab.REJECT_REASONS.values()) + list(vocab.CHANGES_REASONS.values())  # decision mails
    labels += list(vocab.MODERATION_TERMS.values()) + list(vocab.ACTORS.values()) + list(vocab.LINK_ROLES.values())
    labels += [kind.label_one for kind in kinds.KINDS]  # the console names a record's kind
    labels += list(i18n.FIELD_MESSAGES.values()) + [forms.HONEYPOT_ERROR]  # the forms' field errors
    labels += list(errors.REASONS.values()) + list(i18n.ERROR_SUMMARIES.values())  # what went wrong
    labels += list(dataviz.SCRIPT_PHRASES.values())  # what the map's scripts say
    for label in labels + list(views.KIND_LABELS.values()):
        catalog.add(label, None, [(VOCABULARY_SOURCE, 0)])
    return catalog


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        write_po(target, catalog, width=120, sort_output=True, omit_header=False, include_lineno=False)


def update() -> None:
    pot = template()
    write(pot, POT)
    for lang in i18n.LANGUAGES:
        if lang == i18n.DEFAULT:
            continue
        path = HERE / lang / "LC_MESSAGES" / "messages.po"
        catalog = read(path, lang) if path.exists() else Catalog(locale=lang, project="DSI network")
        catalog.update(pot, update_header_comment=False)
        catalog.fuzzy = False
        write(catalog, path)


if __name__ == "__main__":
    update()
