"""The offline gazetteer: a city name to its coordinates, as the join forms place a record."""
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
