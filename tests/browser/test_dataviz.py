"""The map, network and groupings in headless Chromium, on the real 2017 export, as a new visitor sees them:
drawn from files of this site only, counts per country equal to the search's facets, the table alternative
without JavaScript, the embed framed by a page of another origin (and the plain page refused there).

The pages are served by bench/dataviz_site.py: the gateway's templates, static files and page helpers and the
search service's dataviz functions over a real index, behind a stand-in for the gateway's routing (until the
gateway's rooms carry the routes; then the `viz` fixture becomes the whole platform).
"""
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
from playwright.sync_api import Error as PlaywrightError, expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from tests.factories import project_body
from tests.helpers import eventually, publish
from tests.processes import free_port, stop, wait_until_it_answers
from tests.search.test_search_real_data import REAL_EXPORT

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (REAL_EXPORT / "organisations.json").exists(), reason="no real export")
FILTERS = [
    "",
    "kind=project",
    "kind=organisation&country=ES&country=IT",
    "social_areas=health-and-care&social_areas=digital-democracy",
    "organisation_type=academia-research-organisation",
    "q=open+data",
]


@pytest.fixture(scope="module")
def viz():
    """The views over the real data, served by their own process (Playwright blocks this one's eventlet hub
    while it waits for the browser); the base URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "bench/dataviz_site.py"), "--port", str(port)],
                               stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_it_answers(f"{base}/api/map/countries", process, seconds=110)
        yield base
    finally:
        stop(process)


@pytest.fixture
def other_origin():
    """A page of another origin (another port) that frames the address it is given."""
    pages = {}

    def app(environ, start_response):
        return Response(pages.get(environ["PATH_INFO"], ""), mimetype="text/html")(environ, start_response)
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def framing(src):
        pages["/host"] = f'<!doctype html><title>Host</title><iframe id="f" src="{src}" width="900" height="600"></iframe>'
        return f"http://127.0.0.1:{server.server_port}/host"
    yield framing
    server.shutdown()


@pytest.fixture
def tab(browser, viz):
    base = viz
    context = browser.new_context(base_url=base, locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems, requests = [], []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    page.set_default_timeout(15_000)
    page.requests, page.problems = requests, problems
    yield page
    context.close()
    assert not problems, problems


def address(tab) -> str:
    """The page's address as it stands, read through the DevTools protocol (which, unlike wait_for_function's
    string predicates, the page's Content-Security-Policy does not govern)."""
    try:
        return tab.evaluate("() => location.href")
    except PlaywrightError:  # navigating: asked again
        return ""


def facet(base: str, query: str, name: str = "country") -> dict:
    """The directory search's own counts of a facet for the same filters (its JSON API)."""
    pairs = [(key, value) for key, values in parse_qs(query).items() for value in values]
    with urllib.request.urlopen(f"{base}/api/search?{urlencode(pairs + [('per_page', 1)])}") as response:
        answer = json.load(response)
    return {entry["value"]: entry["count"] for entry in answer["facets"][name] if entry["count"]}


def table_counts(page) -> dict:
    return {row.get_attribute("data-country"): int(row.locator("td").first.text_content().replace(",", ""))
            for row in page.locator("#map-table-body tr[data-country]").all()}


def test_the_map_draws_the_real_data_from_this_site_only(tab, viz, tmp_path):
    base = viz
    tab.goto("/map")
    tab.wait_for_selector("#dsi-map[data-ready=true]")
    assert tab.locator("#dsi-map .country").count() > 40  # Natural Earth boundaries of the countries in view
    assert tab.locator("#dsi-map .bubble").count() > 30
    assert tab.locator("#map-table").get_attribute("open") is None  # one click away, not gone
    tab.screenshot(path=str(tmp_path / "map.png"))
    tab.goto("/map?lat=41.6&lon=1.5&z=7")
    tab.wait_for_selector("#dsi-map[data-mode=points][data-ready=true]")
    assert tab.locator("#dsi-map .record").count() > 3 and tab.locator("#dsi-map .cluster").count() > 1
    assert all(url.startswith(base) for url in tab.requests), [url for url in tab.requests if not url.startswith(base)]


@pytest.mark.parametrize("query", FILTERS)
def test_counts_per_country_equal_the_search_facets(tab, viz, query):
    base = viz
    tab.goto(f"/map?{query}")
    tab.wait_for_selector("#dsi-map[data-ready=true]")
    expected = facet(base, query)
    assert table_counts(tab) == expected and expected
    shown = {mark.get_attribute("data-country") for mark in tab.locator("#dsi-map .bubble").all()}
    assert shown and shown <= set(expected)


def test_a_ticked_filter_redraws_and_lives_in_the_address(tab, viz):
    base = viz
    tab.goto("/map")
    tab.wait_for_selector("#dsi-map[data-ready=true]")
    before = tab.get_attribute("#dsi-map", "data-drawn-at")
    tab.check("input[name=kind][value=project]")
    drawn = tab.locator("#dsi-map")
    expect(drawn).not_to_have_attribute("data-drawn-at", before)
    expect(drawn).to_have_attribute("data-ready", "true")
    assert "kind=project" in tab.url
    assert table_counts(tab) == facet(base, "kind=project")
    directory = tab.get_attribute(".viz-links a", "href")
    assert directory.endswith("/search?kind=project")
    assert tab.get_attribute(".viz-tabs a:has-text('Network')", "href").endswith("/map/network?kind=project")


def test_the_shades_switch_to_records_per_million_inhabitants_in_the_legend_address_and_table(tab, viz):
    base = viz
    tab.goto("/map?kind=project")
    tab.wait_for_selector("#dsi-map[data-ready=true]")
    key = tab.locator("#map-shade-key")
    assert key.is_visible() and key.inner_text().strip() == "Shades: records per country"

    def shades():
        return tab.eval_on_selector_all("#dsi-map .land .country", "paths => paths.map(p => p.style.fill)")

    def column(index):
        return [row.locator("td").nth(index).text_content() for row in tab.locator("#map-table-body tr").all()]

    tab.click("#map-table summary")
    by_records = shades()
    assert tab.get_attribute("#map-table thead th:nth-child(2)", "aria-sort") == "descending"
    tab.check("input[name=measure][value=per_million]")
    assert "measure=per_million" in tab.url and "kind=project" in tab.url
    assert key.inner_text().strip() == "Shades: records per million inhabitants"
    assert shades() != by_records  # the same countries, shaded by another measure
    assert tab.get_attribute("#map-table thead th:nth-child(3)", "aria-sort") == "descending"
    assert tab.get_attribute("#map-table thead th:nth-child(2)", "aria-sort") is None
    per_million = [float(text.replace(",", "")) for text in column(1)]
    assert per_million == sorted(per_million, reverse=True) and len(per_million) > 3
    with urllib.request.urlopen(f"{base}/api/map/countries?kind=project") as response:
        answer = {item["country"]: item["per_million"] for item in json.load(response)["items"]}
    first = tab.locator("#map-table-body tr").first
    assert float(first.locator("td").nth(1).text_content().replace(",", "")) == answer[
        first.get_attribute("data-country")] == max(answer.values())

    tab.goto(tab.url)  # the measure is part of the shared view
    tab.wait_for_selector("#dsi-map[data-ready=true]")
    assert tab.is_checked("input[name=measure][value=per_million]")
    assert key.inner_text().strip() == "Shades: records per million inhabitants"
    tab.check("input[name=measure][value=records]")
    assert "measure=" not in tab.url and key.inner_text().strip() == "Shades: records per country"
    assert shades() == by_records


def test_a_record_opens_its_panel_by_keyboard(tab):
    tab.goto("/map?lat=41.6&lon=1.5&z=7")
    tab.wait_for_selector("#dsi-map[data-mode=points][data-ready=true]")
    record = tab.locator("#dsi-map .record").first
    name = record.get_attribute("aria-label").rsplit(" (", 1)[0]
    record.focus()
    tab.keyboard.press("Enter")
    panel = tab.locator("#map-panel")
    panel.wait_for(state="visible")
    assert panel.locator("h2").inner_text() == name
    link = panel.locator("a:has-text('Open its page')").get_attribute("href")
    assert link.startswith(("/organisations/", "/projects/"))
    tab.keyboard.press("Escape")
    panel.wait_for(state="hidden")


def test_without_javascript_the_table_is_the_map(browser, viz):
    base = viz
    context = browser.new_context(base_url=base, java_script_enabled=False)
    page = context.new_page()
    page.goto("/map?kind=project")
    assert page.locator("#map-table").get_attribute("open") == ""
    assert not page.locator("#dsi-map svg").is_visible()
    assert table_counts(page) == facet(base, "kind=project")
    first = page.locator("#map-table-body a").first.get_attribute("href")
    assert first.startswith("/search?") and "kind=project" in first
    page.goto("/map/network")
    assert page.locator("#network-table tbody tr").count() > 20
    page.goto("/map/groupings?by=technologies&kind=project")
    counts = {row.locator("th").text_content(): int(row.locator("td.number").text_content().replace(",", ""))
              for row in page.locator(".grouping tbody tr:has(td.number)").all()}
    assert sum(counts.values()) == sum(facet(base, "kind=project", "technologies").values())
    context.close()


def test_only_the_embed_may_be_framed_by_another_site(tab, viz, other_origin):
    base = viz
    tab.goto(other_origin(f"{base}/map?kind=project&embed=1"))
    frame = tab.frame_locator("#f")
    frame.locator("#dsi-map[data-ready=true]").wait_for()
    assert frame.locator(".site-header").count() == 0  # the view alone
    assert frame.locator(".embed-credit a").get_attribute("href").endswith("/map?kind=project")

    tab.goto(other_origin(f"{base}/map"))  # the site itself: refused by its frame-ancestors 'none'
    tab.wait_for_selector("#f", state="attached")
    refusals = [problem for problem in tab.problems if "frame-ancestors 'none'" in problem]
    for _ in range(50):
        if refusals:
            break
        tab.wait_for_timeout(100)
        refusals = [problem for problem in tab.problems if "frame-ancestors 'none'" in problem]
    assert refusals and tab.frame_locator("#f").locator("#dsi-map").count() == 0
    tab.problems[:] = [problem for problem in tab.problems if problem not in refusals]


def test_the_embed_code_is_offered_and_copyable(tab, viz):
    base = viz
    tab.goto("/map?country=ES")
    tab.wait_for_selector("#dsi-map[data-ready=true]")
    tab.click(".embed-box summary")
    code = tab.input_value("#embed-code")
    assert code.startswith("<iframe src=") and "country=ES" in code and "embed=1" in code


def test_the_network_finds_a_record_and_its_neighbours(tab):
    tab.goto("/map/network")
    tab.wait_for_selector("#dsi-network[data-ready=true]")
    assert int(tab.get_attribute("#dsi-network", "data-nodes")) > 2000
    tab.fill("#network-find", "waag society")
    tab.click("#network-found button:has-text('Waag Society')")
    panel = tab.locator("#network-panel")
    panel.wait_for(state="visible")
    assert panel.locator("h2").inner_text() == "Waag Society"
    assert panel.locator(".linked li").count() > 3
    tab.check("#network-linked")
    assert eventually(lambda: "linked=1" in address(tab))
    tab.wait_for_selector("#dsi-network[data-ready=true]")
    assert int(tab.get_attribute("#dsi-network", "data-nodes")) < 2000


def test_groupings_click_through_to_the_directory(tab, viz):
    base = viz
    tab.goto("/map/groupings?by=country&then=kind&social_areas=health-and-care")
    first = tab.locator(".grouping tbody th a").first
    href = first.get_attribute("href")
    assert "social_areas=health-and-care" in href and "country=" in href
    tab.evaluate("() => { const choice = document.querySelector('#group-by'); choice.value = 'dsi_focus';"
                 " choice.dispatchEvent(new Event('change', {bubbles: true})); }")  # applies at once
    assert eventually(lambda: "by=dsi_focus" in address(tab))
    tab.wait_for_selector(".grouping tbody th a")
    assert "social_areas=health-and-care" in tab.url
    assert tab.locator(".grouping tbody th a").count() >= 3


# --- through the whole platform (the gateway's routes, RPC to the search service) ----------------------------

def test_the_gateways_map_draws_from_this_machine_and_frames_only_as_embed(page, site, other_origin):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/pl/map")
    page.wait_for_selector("#dsi-map[data-ready=true]")
    assert page.locator("#dsi-map .bubble").count() >= 2
    shown = {row.get_attribute("data-country"): int(row.locator("td").first.text_content())
             for row in page.locator("#map-table-body tr[data-country]").all()}
    assert shown == facet(site, "")
    page.goto("/map?lat=41.39&lon=2.17&z=9")
    page.wait_for_selector("#dsi-map[data-mode=points][data-ready=true]")
    assert all(url.startswith(site) for url in requests), [url for url in requests if not url.startswith(site)]
    page.goto(other_origin(f"{site}/map?embed=1"))
    page.frame_locator("#f").locator("#dsi-map[data-ready=true]").wait_for()


def test_a_record_page_draws_its_own_network(page, site, sample_ids, directory_db):
    waag = sample_ids["Waag Society"]
    [project] = publish(directory_db, project_body(name="Making Sense", organisations=[{"id": waag, "role": "lead"}]))

    def network_of(record):
        try:
            with urllib.request.urlopen(f"{site}/api/network?record={record}") as response:
                return json.load(response)
        except urllib.error.HTTPError:  # not searchable yet
            return {"nodes": []}
    assert eventually(lambda: len(network_of(waag)["nodes"]) == 2)  # once search has the new project
    page.goto(f"/organisations/{waag}")
    page.wait_for_selector("#dsi-network[data-ready=true]")
    assert int(page.get_attribute("#dsi-network", "data-nodes")) >= 2
