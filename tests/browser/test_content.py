"""An editor writes and publishes a story in headless Chromium: the live Markdown preview (the console's script)
renders as they type, and the story appears on the public pages once published; no CSP violation on the way."""
from playwright.sync_api import expect

from tests.browser.conftest import EDITOR


def test_an_editor_publishes_a_story_in_the_browser(page, site):
    page.goto("/console/content")
    assert "/console/login" in page.url
    page.fill("#email", EDITOR["email"])
    page.fill("#password", EDITOR["password"])
    page.click("button[type=submit]")
    page.goto("/console/content/new/story")
    page.fill("#f-title", "Browser story")
    page.fill("#f-summary", "Written in a real browser")
    page.fill("#f-body", "Some **bold** words <script>alert(1)</script>")
    expect(page.locator("#markdown-preview strong")).to_have_text("bold")  # the live preview, by script
    expect(page.locator("#markdown-preview script")).to_have_count(0)
    page.click("button[value=save]")
    expect(page.locator("h1")).to_contain_text("(Story, Draft)")
    assert page.goto("/stories/browser-story").status == 404  # a draft is not public
    page.goto("/console/content")
    page.click("text=Browser story")
    page.click("button:has-text('Publish')")
    expect(page.locator(".notice")).to_contain_text("Done: Published.")
    page.goto("/stories")
    page.click("text=Browser story")
    expect(page.locator("article h1")).to_have_text("Browser story")
    expect(page.locator("article .body strong")).to_have_text("bold")
