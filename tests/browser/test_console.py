"""The moderation console in headless Chromium: log in, work the queue, decide, log out; no CSP violation on the
way (the `page` fixture fails the test on one)."""
import re

import requests
from playwright.sync_api import expect

from tests.browser.conftest import MODERATOR
from tests.factories import project_body


def test_a_moderator_rejects_with_a_reason_in_the_browser(page, site):
    submitted = requests.post(f"{site}/api/submissions", json=project_body(name="Browser Garden")).json()
    page.goto("/console")
    assert "/console/login" in page.url
    page.fill("#email", MODERATOR["email"])
    page.fill("#password", MODERATOR["password"])
    page.click("button[type=submit]")
    expect(page.locator("table.queue")).to_contain_text("Browser Garden")
    page.click("text=Browser Garden")
    page.check("input[name=decision][value=reject]")
    page.click("button:has-text('Save decision')")
    expect(page.locator(".error-summary")).to_contain_text("Some fields are not valid")  # no reason yet
    page.select_option("#decision-code", "not_dsi")
    page.fill("#decision-text", "This is a shop, not a social innovation.")
    page.click("button:has-text('Save decision')")
    expect(page.locator(".notice")).to_contain_text("Decision saved: Rejected.")
    expect(page.locator("table.history")).to_contain_text("Not digital social innovation")  # the reason's label
    expect(page.locator("table.history")).to_contain_text("This is a shop, not a social innovation.")
    page.goto("/console/queue?state=rejected")
    expect(page.locator("table.queue")).to_contain_text("Browser Garden")
    page.click("button:has-text('Log out')")
    assert "/console/login" in page.url
    page.goto("/console/queue")
    assert "/console/login" in page.url
    status = requests.get(f"{site}/api/submissions/{submitted['id']}", params={"token": submitted["status_token"]})
    assert re.search("shop", status.json()["reason"] or "")
