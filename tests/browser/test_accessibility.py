"""Accessibility in headless Chromium: axe-core (npm, pinned in package-lock.json) finds no serious or critical
violation on any page type and state; every page starts with a skip link; focus is visible; a person searches the
directory with the keyboard alone.

One platform for the whole module (every service in one `nameko run` process), pages visited in a loop with one
axe run each; a failure lists every violation of every page at once.
"""
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dsi import events, vocab
from dsi.database import make_engine
from dsi.messaging import OutboxWriter
from dsi.migrations import upgrade
from services.content import items
from services.content.models import Outbox
from services.moderation import accounts
from tests.browser.conftest import SERVICES
from tests.factories import organisation_body, project_body
from tests.helpers import eventually, publish
from tests.newsletter.conftest import Sink, newsletter_config
from tests.processes import free_port, nameko_run, stop, wait_until_it_answers

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules/axe-core/axe.min.js"
ADMIN = {"email": "admin@example.org", "role": "admin", "password": "a long admin password"}
SERIOUS = ("serious", "critical")

pytestmark = pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: run `make setup` (npm ci)")


@pytest.fixture(scope="module")
def platform(request, vhost_pipeline, tmp_path_factory):
    """Every service and the gateway, over two records and one published item of each editorial kind; the
    gateway's URL, the records' ids and the items' slugs."""
    folder = tmp_path_factory.mktemp("a11y")
    urls = {service: f"sqlite:///{folder}/{service}.db" for service in ("directory", "moderation", "newsletter",
                                                                        "content")}
    for service, url in urls.items():
        upgrade(service, url)
    directory = make_engine(urls["directory"])
    ids = publish(directory, organisation_body(name="Waag Society", city="Amsterdam", country="NL"),
                  project_body(name="Decidim Barcelona", country="ES", city="Barcelona", latitude=41.39,
                               longitude=2.17, social_areas=["Digital democracy"]))
    directory.dispose()
    content = make_engine(urls["content"])
    slugs = {}
    with Session(content) as session:
        outbox = OutboxWriter(Outbox, events.CONTENT)
        for kind in ("story", "event", "funding", "resource"):
            body = {"title": f"An accessible {kind}", "summary": "For everyone", "body": "Some *text*."}
            if kind == "event":
                body["start"] = (datetime.now() + timedelta(days=7)).replace(microsecond=0).isoformat()
            if kind == "funding":
                body["rolling"] = True
            item = items.create(session, outbox, kind, body, ADMIN["email"])
            items.transition(session, outbox, item.id, "publish", ADMIN["email"])
            slugs[kind] = item.slug
        session.commit()
    content.dispose()
    moderation = make_engine(urls["moderation"])
    with Session(moderation) as session, session.begin():
        accounts.create_staff(session, ADMIN)
    moderation.dispose()

    port = free_port()
    rabbit = request.config.getoption("RABBIT_AMQP_URI")
    sink = Sink(free_port(), folder / "mail")
    with vhost_pipeline.get() as vhost:
        config = {**newsletter_config(sink.port), "AMQP_URI": f"{rabbit.rsplit('/', 1)[0]}/{vhost}",
                  "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "SPOOL_DIR": str(folder / "spool"),
                  "DB_URIS": {f"{service}:Base": url for service, url in urls.items()},
                  "SEARCH_BACKEND": "embedded", "SEARCH_INDEX_DIR": str(folder / "search"),
                  "MEDIA_DIR": str(folder / "media"), "LOGGING": {"version": 1, "root": {"level": "WARNING"}}}
        config_file = folder / "config.yml"
        config_file.write_text(json.dumps(config))
        process = nameko_run(config_file, *SERVICES, "services.newsletter.service:NewsletterService")
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_it_answers(f"{url}/api/search", process)
            assert eventually(lambda: requests.get(f"{url}/api/search?q=decidim").json()["total"] == 1, 30)
            yield {"url": url, "organisation": ids[0], "project": ids[1], **slugs}
        finally:
            stop(process)
            sink.stop()


@pytest.fixture
def tab(browser, platform):
    context = browser.new_context(base_url=platform["url"], locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands, one line each (evaluated through
    the DevTools protocol, which the page's Content-Security-Policy does not govern)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{violation['impact']} {violation['id']}: {violation['help']} at "
            + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            for violation in result["violations"] if violation["impact"] in SERIOUS]


def skip_link_problem(page) -> str | None:
    """None when the first thing a Tab reaches is a link to the page's main content, which exists."""
    first = page.evaluate("""() => {
        const link = document.querySelector('a[href], button, input, select, textarea');
        const target = link && link.hash && document.getElementById(link.hash.slice(1));
        return {hash: link && link.hash, target: target ? target.tagName : null};
    }""")
    if not first["hash"] or first["target"] is None:
        return f"no skip link first: {first}"
    return None


def _public_states(platform):
    org, project = platform["organisation"], platform["project"]
    yield "home", lambda page: page.goto("/")
    yield "search", lambda page: page.goto("/search")
    yield "search with filters", lambda page: page.goto("/search?kind=project&country=ES&social_areas=digital-democracy")
    yield "search, zero hits", lambda page: page.goto("/search?q=zzqxjv")
    yield "organisation", lambda page: page.goto(f"/organisations/{org}")
    yield "project", lambda page: page.goto(f"/projects/{project}")
    yield "project in Polish", lambda page: page.goto(f"/pl/projects/{project}")
    yield "report a project", lambda page: page.goto(f"/projects/{project}/report")

    def report_sent(page):
        page.goto(f"/projects/{project}/report")
        page.select_option("#report-reason", "incorrect")
        page.click("main form button[type=submit]")
        expect(page.locator("main [role=status]")).to_be_visible()
    yield "report a project, sent", report_sent

    yield "join", lambda page: page.goto("/join")
    for kind in ("organisation", "project"):
        yield f"join {kind}", lambda page, kind=kind: page.goto(f"/join/{kind}")

        def join_wrong(page, kind=kind):  # the form has novalidate: the server answers the mistakes
            page.goto(f"/join/{kind}")
            page.fill("#email", "not an address")
            page.click("form.record-form button[type=submit]")
            expect(page.locator(".error-summary")).to_be_visible()
        yield f"join {kind} with errors", join_wrong

    def join_preview(page):  # a project placed from its city name, shown before it is sent
        page.goto("/join/project")
        page.fill("#name", "Axe Check Project")
        page.fill("#short_description", "A project that checks the preview page.")
        page.select_option("#country", "ES")
        page.fill("#city", "Barcelona")
        page.fill("#email", "axe@example.org")
        page.click("button[name=step][value=preview]")
        expect(page.locator("form.preview")).to_be_visible(timeout=30_000)  # the gazetteer loads once
    yield "join project, preview", join_preview

    def join_sent(page):  # the status page that says what happens next
        join_preview(page)
        page.click("button[name=step][value=send]")
        expect(page).to_have_url(re.compile("/submissions/"))
    yield "join project, sent: its status page", join_sent

    yield "newsletter", lambda page: page.goto("/newsletter")


    def newsletter_wrong(page):  # past the browser's own check of the address: the server answers it too
        page.goto("/newsletter")
        page.locator("main form").first.evaluate("form => { form.noValidate = true; }")
        page.fill("main input[name=email]", "not an address")
        page.click("main form button[type=submit]")
        expect(page.locator("main [role=alert]")).to_be_visible()
    yield "newsletter subscribe with errors", newsletter_wrong
    yield "newsletter archive", lambda page: page.goto("/newsletter/archive")
    yield "newsletter confirm, bad link", lambda page: page.goto("/newsletter/confirm?token=nope")
    yield "newsletter unsubscribe, bad link", lambda page: page.goto("/newsletter/unsubscribe?token=nope")
    for segment, kind in (("stories", "story"), ("events", "event"), ("funding", "funding"),
                          ("resources", "resource")):
        yield segment, lambda page, segment=segment: page.goto(f"/{segment}")
        yield f"{kind} page", lambda page, segment=segment, kind=kind: page.goto(f"/{segment}/{platform[kind]}")
    yield "clusters", lambda page: page.goto("/clusters")
    yield "cluster", lambda page: page.goto(f"/clusters/{next(iter(vocab.CLUSTERS))}")
    yield "about", lambda page: page.goto("/about")
    yield "console login", lambda page: page.goto("/console/login")

    def console_login_wrong(page):
        page.goto("/console/login")
        page.fill("#email", ADMIN["email"])
        page.fill("#password", "not the password")
        page.click("button[type=submit]")
        expect(page.locator("main")).to_contain_text("wrong")
    yield "console login with errors", console_login_wrong

    def console_queue(page):
        page.goto("/console/login")
        page.fill("#email", ADMIN["email"])
        page.fill("#password", ADMIN["password"])
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile("/console/queue"))
    yield "console queue", console_queue  # the tab stays logged in for the console pages after it
    submitted = requests.post(f"{platform['url']}/api/submissions", json=project_body(name="Queued Garden")).json()

    def console_item_wrong(page):  # rejected without a reason
        assert eventually(lambda: page.goto(f"/console/items/{submitted['id']}").ok, 20)
        page.check("input[name=decision][value=reject]")
        page.click("button:has-text('Save decision')")
        expect(page.locator(".error-summary")).to_be_visible()
    yield "console item", lambda page: eventually(lambda: page.goto(f"/console/items/{submitted['id']}").ok, 20)
    yield "console item with errors", console_item_wrong
    for path in ("/console/reports", "/console/staff", "/console/newsletter", "/console/content",
                 "/console/content/new/story"):
        yield path, lambda page, path=path: page.goto(path)
    yield "not found", lambda page: page.goto("/no-such-page")
    for path in ("/map", "/map/network", "/map/groupings"):
        yield path, lambda page, path=path: page.goto(path)


@pytest.mark.timeout(300)  # some fifty pages, one axe run each
def test_no_serious_violation_and_a_skip_link_on_every_page(tab, platform):
    problems = {}
    for name, visit in _public_states(platform):
        visit(tab)
        found = serious_violations(tab) + [problem for problem in [skip_link_problem(tab)] if problem]
        if found:
            problems[f"{name} ({tab.url})"] = found
    assert not problems, "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in problems.items())


def test_focus_is_visible(tab):
    tab.goto("/search")
    for selector in ("a.skip", "#q", ".main-nav a", "button[type=submit]"):
        element = tab.locator(selector).first
        element.focus()
        style = element.evaluate("e => { const s = getComputedStyle(e); "
                                 "return {outline: s.outlineStyle + ' ' + s.outlineWidth, shadow: s.boxShadow}; }")
        assert not style["outline"].startswith("none") and style["outline"] != "none 0px" or \
            style["shadow"] != "none", f"{selector} shows no focus: {style}"


def test_the_skip_link_appears_on_focus_and_leads_to_the_content(tab):
    tab.goto("/")
    skip = tab.locator("a.skip")
    tab.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    tab.keyboard.press("Enter")
    expect(tab.locator("#main")).to_be_focused()


def tab_until(page, focused: str, presses: int, what: str) -> None:
    """Press Tab until the script `focused` holds of the focused element; fail after `presses` presses."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(focused):
            return
    pytest.fail(f"Tab never reaches {what}")


def test_a_search_with_the_keyboard_alone(tab):
    tab.goto("/")
    tab_until(tab, "document.activeElement.type === 'search' || document.activeElement.name === 'q'", 60,
              "the search box")
    tab.keyboard.type("decidim")
    tab.keyboard.press("Enter")
    expect(tab).to_have_url(re.compile(r"/search\?.*q=decidim"))
    tab_until(tab, "document.activeElement.textContent.trim() === 'Decidim Barcelona'", 80, "the first result")
    tab.keyboard.press("Enter")
    expect(tab.locator("h1")).to_have_text("Decidim Barcelona")
