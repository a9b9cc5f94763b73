"""A visitor's journeys through the site in a real browser."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import MODERATOR
from tests.helpers import eventually


def test_search_as_you_type_opens_a_record(page):
    page.goto("/search")
    page.fill("#q", "decid")
    option = page.locator("#q-suggestions [role=option]").first
    expect(option).to_contain_text("Decidim Barcelona")
    page.press("#q", "ArrowDown")
    expect(page.locator("#q")).to_have_attribute("aria-activedescendant", "q-suggestions-0")
    page.press("#q", "Enter")
    expect(page.locator("h1")).to_have_text("Decidim Barcelona")
    expect(page.locator(".map-point")).to_have_count(1)


def test_a_click_picks_a_suggestion_in_both_comboboxes(page):
    """The search box and the join form's organisations share one combobox (site.js): a click picks, like Enter."""
    page.goto("/join/project")
    page.fill("#organisation-1", "Waag")
    page.locator("#organisation-1-list [role=option]").first.click()
    expect(page.locator("#organisation-1")).to_have_value("Waag Society")
    expect(page.locator("#organisation-1-list")).to_be_hidden()
    expect(page.locator("#organisation-1")).to_have_attribute("aria-expanded", "false")
    page.goto("/search")
    page.fill("#q", "decid")
    page.locator("#q-suggestions [role=option]").first.click()
    expect(page.locator("h1")).to_have_text("Decidim Barcelona")


def test_ticking_and_unticking_facets_keeps_the_state_in_the_url(page):
    page.goto("/search")
    expect(page.locator(".total")).to_have_text("6 results")
    page.check("input[name=country][value=ES]")
    expect(page).to_have_url(re.compile(r"country=ES"))
    expect(page.locator(".total")).to_have_text("3 results")
    page.check("input[name=social_areas][value=digital-democracy]")
    expect(page).to_have_url(re.compile(r"social_areas=digital-democracy"))
    expect(page.locator(".total")).to_have_text("1 result")
    expect(page.locator(".chip")).to_have_count(2)
    page.uncheck("input[name=country][value=ES]")
    expect(page).not_to_have_url(re.compile(r"country="))
    expect(page.locator(".chip")).to_have_count(1)
    page.click(".chip")  # removing the last chip
    expect(page.locator(".total")).to_have_text("6 results")
    page.go_back()
    expect(page.locator(".chip")).to_have_count(1)


def moderator_console(browser, site):
    """A page of its own browser context, logged in to the console as the moderator."""
    console = browser.new_context(base_url=site).new_page()
    console.goto("/console/login")
    console.fill("#email", MODERATOR["email"])
    console.fill("#password", MODERATOR["password"])
    console.click("button[type=submit]")
    expect(console).to_have_url(re.compile(r"/console/queue"))
    return console


def test_a_project_submitted_in_the_browser_appears_after_approval(page, browser, site):
    page.goto("/join/project")
    page.fill("#name", "Browser Garden")
    page.fill("#short_description", "Community gardens mapped by neighbours.")
    page.fill("#long_description", '<p>Grow <a href="javascript:alert(1)">food</a></p><script>alert(2)</script>')
    page.select_option("#country", "IT")
    page.fill("#city", "Torino")
    page.check("input[name=social_areas][value=food-environment-and-climate-change]")
    page.fill("#email", "garden@example")  # a mistake first: the form comes back with the input kept
    page.click("button[value=preview]", timeout=30_000)  # the gazetteer's first look-up in the process builds it
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Browser Garden")
    page.fill("#email", "garden@example.org")
    page.click("button[value=preview]")
    expect(page.locator(".place-coordinates")).to_contain_text("45.07")  # Turin, found by its name
    page.click("button[value=send]")
    expect(page.locator(".state")).to_have_text("Waiting for review")

    submission_id = re.search(r"/submissions/([^?]+)", page.url).group(1)

    # a moderator approves it in the console, once the submission has reached the queue
    console = moderator_console(browser, site)
    assert eventually(lambda: console.goto(f"/console/items/{submission_id}").ok)
    console.check("input[name=decision][value=approve]")
    console.click("text=Save decision")
    expect(console).to_have_url(re.compile(r"done=approve"))
    console.context.close()

    assert eventually(lambda: page.reload() and page.locator(".state").inner_text() == "Approved and published")
    page.click("text=See the published page")
    expect(page.locator("h1")).to_have_text("Browser Garden")
    expect(page.locator(".description a")).not_to_have_attribute("href", re.compile("javascript"))
    # search learns of the record through the directory's event: a moment later
    assert eventually(lambda: page.goto("/search?q=gardn") and "Browser Garden" in page.locator("main").inner_text())


def test_switching_language(page):
    page.goto("/search?country=ES")
    page.click("nav.languages >> text=Polski")
    expect(page).to_have_url(re.compile(r"/pl/search\?country=ES"))
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.locator("h1")).to_have_text("Katalog organizacji i projektów")
    expect(page.locator(".chip")).to_contain_text("Hiszpania")
    page.click("nav.main-nav >> text=Dołącz do sieci")
    expect(page).to_have_url(re.compile(r"/pl/join$"))


def tab_to(page, selector: str) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user moves through the page."""
    for _ in range(300):
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus")


def test_a_project_with_two_organisations_joins_by_keyboard_alone(page, browser, site):
    page.goto("/join/project")
    tab_to(page, "#name")
    page.keyboard.type("Keyboard Commons")
    tab_to(page, "#short_description")
    page.keyboard.type("Shared tools, reached without a mouse.")
    page.reload()  # what was typed survives a reload (kept in the browser until it is sent)
    expect(page.locator("#name")).to_have_value("Keyboard Commons")
    expect(page.locator(".draft-notice")).to_be_visible()

    tab_to(page, "#organisation-1")  # one organisation from the directory, chosen as typed
    page.keyboard.type("Waag")
    expect(page.locator("#organisation-1-list [role=option]").first).to_have_text("Waag Society")
    expect(page.locator("#organisation-status")).to_contain_text("1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#organisation-1")).to_have_value("Waag Society")
    tab_to(page, "#organisation-2")  # and one new
    page.keyboard.type("Commons Lab Barcelona")
    tab_to(page, "#city")
    page.keyboard.type("barcelona")
    tab_to(page, "#email")
    page.keyboard.type("keys@example.org")
    tab_to(page, "button[value=preview]")
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Check your entry", timeout=15_000)
    organisations = page.locator(".preview-organisations li")
    expect(organisations.nth(0)).to_have_text("Waag Society — in the directory")
    expect(organisations.nth(1)).to_contain_text("Commons Lab Barcelona — new: proposed to the directory")
    expect(page.locator(".place-coordinates")).to_have_text("41.3888, 2.1590")
    tab_to(page, ".place-map svg")  # the point moves by arrow keys
    expect(page.locator(".map-land")).to_have_count(1)
    page.keyboard.press("ArrowUp")
    expect(page.locator(".place-coordinates")).to_have_text("41.3988, 2.1590")
    expect(page.locator("input[name=latitude]")).to_have_value("41.39879")
    tab_to(page, "button[value=send]")
    page.keyboard.press("Enter")

    expect(page.locator(".state")).to_have_text("Waiting for review")
    expect(page.locator(".next-steps")).to_contain_text("usually within five working days")
    expect(page.locator(".proposed")).to_have_text("Commons Lab Barcelona: Waiting for review")
    assert eventually(lambda: not page.evaluate(  # sent: the draft is dropped
        "() => Object.keys(localStorage).some((key) => key.startsWith('dsi-draft:'))"))

    # the moderator sees the project and the organisation proposed with it side by side
    submission_id = re.search(r"/submissions/([^?]+)", page.url).group(1)
    console = moderator_console(browser, site)
    together = console.locator("h2:has-text('Submitted together') + p + ul li")
    assert eventually(lambda: console.goto(f"/console/items/{submission_id}").ok and together.count() == 1)
    expect(together).to_contain_text("Commons Lab Barcelona (Organisation)")
    console.context.close()
