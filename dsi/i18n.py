"""Interface languages: the gettext catalogues of every text a person reads, the gateway's pages and the mails the
newsletter service sends alike. They live in gateway/translations/<lang>/LC_MESSAGES/messages.po, where the
gateway extracts them (`python -m gateway.translations.catalogues`), and are compiled in memory when first used,
so no binary .mo file lives in the repository. A string missing or fuzzy in a catalogue shows in English.

Pages live under a language prefix (`/de/search`); English, the default, has none (`/search`).
"""
import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from .vocab import INTERFACE_LANGUAGES

CATALOGUES = Path(__file__).resolve().parents[1] / "gateway" / "translations"
DEFAULT = "en"
LANGUAGES = INTERFACE_LANGUAGES  # each language in its own name, for the language switcher


@functools.lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of `lang`; English (and an unknown language) translate nothing."""
    po = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, so they fall back to English
    compiled.seek(0)
    return Translations(compiled)


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


def language(lang: str | None) -> str:
    """`lang` if it is an interface language, else the default."""
    return lang if lang in LANGUAGES else DEFAULT


def localised(lang: str, path: str) -> str:
    """The address of the page at `path` (unprefixed) in `lang`."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return path
    return f"/{lang}{path}"
