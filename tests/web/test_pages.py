"""The public pages over real HTTP: what a visitor sees, in every language, and what they never see."""
import re

import pytest

from dsi import vocab
from gateway.common import i18n


def main(html: str) -> str:
    return re.search(r"<main.*</main>", html, re.S).group(0)


def test_home_shows_counts_latest_records_clusters_and_the_way_to_the_newsletter(site, web_session):
    page = web_session.get("/")
    assert page.status_code == 200
    assert re.search(r"<strong>3</strong> organisations", page.text)
    assert re.search(r"<strong>3</strong> projects", page.text)
    assert "Smart Citizen Kit" in page.text  # among the latest
    for slug, lead in vocab.CLUSTERS.items():
        assert f'href="/clusters/{slug}"' in page.text
    assert 'href="/newsletter"' in page.text
    # the same for every visitor (the form is on the newsletter's page): cacheable
    assert 'name="csrf_token"' not in page.text and "Set-Cookie" not in page.headers
    assert page.headers["Cache-Control"].startswith("public") and page.headers["ETag"]


def test_search_page_keeps_its_state_in_the_url_with_facets_chips_and_counts(site, web_session):
    page = web_session.get("/search", params={"country": "ES", "social_areas": "digital-democracy"}).text
    assert "1 result" in page and "Decidim Barcelona" in page and "Care Map" not in page
    assert re.search(r'name="country" value="ES" checked> Spain <span class="count">\(1\)', page)
    # each chip links to the same search without its own value
    chips = dict(re.findall(r'<a class="chip" href="([^"]+)" data-facet="[^"]+" data-value="([^"]+)"', page))
    assert chips == {"/search?social_areas=digital-democracy": "ES", "/search?country=ES": "digital-democracy"}
    assert 'href="/search"' in page  # clear all


def test_a_directory_list_is_the_search_page_of_its_kind_with_the_same_page_and_filters(site, web_session):
    """`/organisations` and `/projects` (the old site's lists, and bookmarks of them) open the search page of that
    kind, keeping the words, filters, order and page asked for; values the search page does not know are left out."""
    cases = {"/organisations": "/search?kind=organisation",
             "/de/projects?page=4&country=ES&sort=name&colour=red": "/de/search?kind=project&country=ES&sort=name&page=4",
             "/organisations?q=fab+lab&kind=project": "/search?q=fab+lab&kind=organisation"}
    for asked, expected in cases.items():
        answer = web_session.get(asked, allow_redirects=False)
        assert (answer.status_code, answer.headers["Location"]) == (303, expected), asked
    page = web_session.get("/projects?country=ES").text
    assert "Decidim Barcelona" in page and "Care Map" not in page


def test_misspelt_name_is_found_and_highlighted(site, web_session):
    page = web_session.get("/search", params={"q": "barcleona"}).text
    assert "Decidim Barcelona" in page


def test_zero_hits_offer_a_way_out(site, web_session):
    page = main(web_session.get("/search", params={"q": "zzzzqqq", "country": "NL"}).text)
    assert "Nothing matches “zzzzqqq”." in page
    assert 'href="/search?q=zzzzqqq">Search again without filters' in page
    assert 'href="/join"' in page


def test_paging_links_keep_the_query(site, web_session, directory_db):
    from tests.factories import organisation_body
    from tests.helpers import eventually, publish
    publish(directory_db, *[organisation_body(name=f"Paging Lab {n:02d}") for n in range(21)])
    eventually(lambda: web_session.get("/api/search", params={"q": "paging"}).json()["total"] == 21)
    first = web_session.get("/search", params={"q": "paging", "sort": "name"}).text
    assert "21 results" in first and 'href="/search?q=paging&amp;sort=name&amp;page=2" rel="next"' in first
    second = web_session.get("/search", params={"q": "paging", "sort": "name", "page": 2}).text
    assert "Paging Lab 20" in second and "Paging Lab 00" not in second


def test_record_pages_render_sanitised_descriptions_only(site, web_session):
    page = web_session.get(f"/projects/{site['Smart Citizen Kit']}").text
    body = main(page)
    assert "<strong>text</strong>" in body  # formatting kept
    assert "<script" not in body and "javascript:" not in body and "onerror" not in body
    assert 'href="/search?social_areas=food-environment-and-climate-change"' in body
    organisation = web_session.get(f"/organisations/{site['Waag Society']}").text
    assert "For-profit business" in organisation and "Amsterdam, Netherlands" in organisation


def test_record_page_has_a_map_point_when_it_has_coordinates(site, web_session):
    page = web_session.get(f"/projects/{site['Decidim Barcelona']}").text
    assert re.search(r'<circle cx="[\d.]+" cy="[\d.]+" r="6" class="map-point"/>', page)
    assert "openstreetmap.org/?mlat=41.39&amp;mlon=2.17" in page


def test_user_text_is_escaped_everywhere(site, web_session, directory_db):
    from tests.factories import project_body
    from tests.helpers import eventually, publish
    [record_id] = publish(directory_db, project_body(name='<img src=x onerror=alert(1)>"Evil', city="<b>c</b>",
                                                     tags=["<script>t</script>"]))
    page = web_session.get(f"/projects/{record_id}").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;&#34;Evil" in page
    assert "<b>c</b>" not in page and "<script>t" not in page
    eventually(lambda: web_session.get("/api/search", params={"q": "evil"}).json()["total"])
    listing = web_session.get("/search", params={"q": "evil"}).text
    assert "<img src=x" not in listing and "&lt;img" in listing
    searched = web_session.get("/search", params={"q": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in searched


def test_clusters_have_their_records_and_lead_partner(site, web_session):
    page = web_session.get("/clusters/health-and-care").text
    assert "WeMake" in page and "Care Map" in page and "Decidim" not in page
    assert web_session.get("/clusters/astrology").status_code == 404


@pytest.mark.parametrize("path", ["/nope", "/pl/nope", "/projects/99999", "/organisations/abc"])
def test_unknown_pages_get_the_sites_404(site, web_session, path):
    response = web_session.get(path)
    assert response.status_code == 404
    assert 'class="site-header"' in response.text and "/static/site.css" in response.text
    if path.startswith("/pl/"):
        assert "Nie znaleziono strony" in response.text and '<html lang="pl">' in response.text


def test_unknown_api_paths_get_a_json_404(site, web_session):
    response = web_session.get("/api/nope")
    assert response.status_code == 404 and response.json()["error"] == "NOT_FOUND"


PAGES = ["/", "/search", "/clusters", "/clusters/digital-democracy", "/join", "/join/project",
         "/join/organisation", "/about", "/privacy", "/data"]


@pytest.mark.parametrize("lang", [code for code in i18n.LANGUAGES if code != "en"])
def test_every_page_speaks_each_language(site, web_session, lang):
    """No page shows an English interface string where the catalogue has a translation."""
    join = i18n.gettext(lang, "Join the network")
    assert join != "Join the network"
    for path in PAGES + [f"/projects/{site['Care Map']}"]:
        response = web_session.get(f"/{lang}{path}")
        assert response.status_code == 200, path
        assert f'<html lang="{lang}">' in response.text and join in response.text
        for english in ("Skip to content", "Search organisations and projects", "Digital Social Innovation in Europe"):
            assert english not in response.text, (path, english)
        # links stay in the language; hreflang alternates point to every language
        assert f'href="/{lang}/search"' in response.text
        for code in i18n.LANGUAGES:
            assert f'hreflang="{code}"' in response.text


def test_translated_labels_and_country_names(site, web_session):
    page = web_session.get("/pl/search", params={"country": "ES"}).text
    assert "Hiszpania" in page  # from CLDR through Babel
    assert "Demokracja cyfrowa" in page


def test_security_headers_on_every_response(site, web_session):
    for method, path in [("GET", "/"), ("GET", "/nope"), ("GET", "/api/stats"), ("GET", "/static/site.js"),
                         ("DELETE", "/search"), ("GET", "/data/projects.csv")]:
        response = web_session.request(method, path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_inline_script_or_style_in_pages(site, web_session):
    for path in PAGES + [f"/projects/{site['Decidim Barcelona']}"]:
        html = web_session.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html and not re.search(r" on[a-z]+=", html), path


def test_cors_lets_other_sites_read_the_api_only(site, web_session):
    read = web_session.get("/api/stats", headers={"Origin": "https://elsewhere.example"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    preflight = web_session.options("/api/search", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204 and "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]
    page = web_session.get("/", headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_a_page_answers_even_when_search_is_down(runner_factory, config, sample_ids, web_session):
    from gateway.service import GatewayService
    from services.directory.service import DirectoryService
    runner_factory(config, DirectoryService, GatewayService).start()
    home = web_session.get("/")
    assert home.status_code == 200 and "<strong>3</strong>" in home.text
    search = web_session.get("/search", params={"q": "care"})
    assert search.status_code == 503 and 'class="site-header"' in search.text
    assert web_session.get(f"/projects/{sample_ids['Care Map']}").status_code == 200
