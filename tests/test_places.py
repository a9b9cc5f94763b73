"""The offline gazetteer: a city name to its coordinates, as the join forms place a record."""
import time

import eventlet
import eventlet.event

from dsi import countries, places


def test_a_city_is_found_by_name_without_regard_to_case_or_accents():
    barcelona = places.find("barcelona")
    assert (barcelona.name, barcelona.country) == ("Barcelona", "ES")
    assert abs(barcelona.latitude - 41.39) < 0.05 and abs(barcelona.longitude - 2.16) < 0.05
    assert places.find("ZURICH").name == "Zürich"
    assert places.find("  Kraków ") == places.find("krakow")


def test_a_city_is_found_by_its_name_in_another_language():
    assert places.find("Warszawa").country == "PL"
    assert places.find("Varsovie") == places.find("Warsaw")


def test_the_country_picks_among_cities_of_one_name():
    assert places.find("Valencia").country == "VE"  # the most populous of the name
    assert places.find("Valencia", "VE").country == "VE"
    assert places.find("Valencia", "es").country == "ES"
    assert places.find("Cambridge", "US").country == "US"
    assert places.find("Paris", "NL") is None  # never a place in another country than the one chosen


def test_an_unknown_place_is_none():
    assert places.find("Qwxzville") is None
    assert places.find("") is None


def test_countries_have_geonames_populations_and_counts_per_million():
    assert countries.population("ES") > 40_000_000
    assert countries.population("XK") > 1_000_000  # Kosovo, which pycountry does not know, has one
    assert countries.population("AQ") is None and countries.per_million(3, None) is None
    assert countries.per_million(1, 38_000) == 26.3 and countries.per_million(5, 1_400_000_000) == 0.00357


def test_the_first_look_ups_build_the_index_once_off_the_event_loop(monkeypatch):
    """The first submissions after a start: every look-up waits for one build, on an OS thread, while the process's
    other green threads go on (built on the loop, it held every request of the gateway for seconds)."""
    builds = []

    def timed_build():
        started = time.monotonic()
        index = build()
        builds.append(time.monotonic() - started)
        return index

    build = places._build
    monkeypatch.setattr(places, "_built", None)
    monkeypatch.setattr(places, "_build", timed_build)
    ticks, stop = [], eventlet.event.Event()

    def ticker():
        while not stop.ready():
            ticks.append(time.monotonic())
            eventlet.sleep(0.01)

    eventlet.spawn(ticker)
    lookups = [eventlet.spawn(places.find, "Torino", "IT") for _ in range(3)]
    found = [lookup.wait() for lookup in lookups]
    stop.send()
    assert [place.name for place in found] == ["Turin"] * 3
    assert len(builds) == 1
    # one pause is left: reading the gazetteer's 30 MB of JSON holds the GIL (a third of the build); on the loop,
    # the whole build was one pause
    longest_pause = max(later - earlier for earlier, later in zip(ticks, ticks[1:]))
    assert longest_pause < builds[0] * 0.7, (longest_pause, builds[0])
