"""The map, network and groupings through the gateway: pages in every language with their tables, the JSON API
equal to the search's facets, cacheable answers, and the embed variant alone framable."""
import pytest

from gateway.common import i18n

FILTERS = [{}, {"kind": "project"}, {"country": ["ES", "NL"]}, {"q": "barcelona"}]


def facet(web_session, params, name="country"):
    answer = web_session.get("/api/search", params={**params, "per_page": 1}).json()
    return {entry["value"]: entry["count"] for entry in answer["facets"][name] if entry["count"]}


@pytest.mark.parametrize("params", FILTERS)
def test_country_counts_equal_the_search_facet(site, web_session, params):
    answer = web_session.get("/api/map/countries", params=params)
    assert answer.status_code == 200 and "max-age" in answer.headers["Cache-Control"]
    assert {item["country"]: item["count"] for item in answer.json()["items"]} == facet(web_session, params)
    for item in answer.json()["items"]:  # and per million inhabitants, from GeoNames' populations
        assert item["population"] > 0 and item["per_million"] == pytest.approx(
            item["count"] * 1e6 / item["population"], rel=5e-3)


def test_the_map_answers_geojson_whose_counts_add_up(site, web_session):
    answer = web_session.get("/api/map", params={"zoom": 2}).json()
    placed = web_session.get("/api/search", params={"bbox": "-180,-90,180,90", "per_page": 1}).json()["total"]
    assert answer["type"] == "FeatureCollection"
    assert sum(feature["properties"]["count"] for feature in answer["features"]) == placed > 0
    refused = web_session.get("/api/map", params={"zoom": 15, "bbox": "-20,30,40,70"})
    assert refused.status_code == 422 and "bbox" in refused.json()["details"]


def test_the_network_and_a_records_own_network(site, web_session):
    graph = web_session.get("/api/network").json()
    assert {node["id"] for node in graph["nodes"]} >= {site["Waag Society"], site["Smart Citizen Kit"]}
    own = web_session.get("/api/network", params={"record": site["Waag Society"]}).json()
    assert site["Waag Society"] in {node["id"] for node in own["nodes"]}
    assert web_session.get("/api/network", params={"record": "x"}).status_code == 422


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
@pytest.mark.parametrize("path", ["/map", "/map/network", "/map/groupings?by=social_areas&then=kind"])
def test_every_view_in_every_language_with_its_table(site, web_session, lang, path):
    page = web_session.get(i18n.localised(lang, path))
    assert page.status_code == 200, page.text[:300]
    assert f'<html lang="{lang}"' in page.text and "<table" in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_map_page_table_is_the_search_facet(site, web_session):
    page = web_session.get("/map", params={"kind": "project"}).text
    for code, count in facet(web_session, {"kind": "project"}).items():
        assert f'<tr data-country="{code}">' in page and f'<td class="number">{count}</td>' in page


def test_only_the_embed_may_be_framed(site, web_session):
    embed = web_session.get("/map", params={"embed": "1", "kind": "project"})
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers
    assert 'class="site-header"' not in embed.text and "embed-credit" in embed.text
    assert web_session.get("/map/network", params={"embed": "1"}).headers.get("X-Frame-Options") is None
    assert web_session.get("/search").headers["X-Frame-Options"] == "DENY"


def test_user_text_is_escaped_in_the_views(site, web_session):
    page = web_session.get("/map", params={"q": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)</script>" not in page


def test_the_directory_and_the_map_link_to_each_other_with_the_selection(site, web_session):
    search = web_session.get("/search", params={"kind": "project", "country": "ES"}).text
    assert 'href="/map?kind=project&amp;country=ES"' in search
    view = web_session.get("/map", params={"kind": "project", "country": "ES"}).text
    assert 'href="/search?kind=project&amp;country=ES"' in view
