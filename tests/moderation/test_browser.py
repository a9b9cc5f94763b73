"""The console in headless Chromium: log in, work the queue, decide, log out; no CSP violation on the way.

The services run as a `nameko run` process (Playwright blocks the test's thread, which would starve services
running in the test's own eventlet hub); skipped, with the reason, when Chromium is missing.
"""
import json
import re

import pytest
import requests
from sqlalchemy.orm import Session

from dsi.database import make_engine
from dsi.migrations import upgrade
from services.moderation import accounts
from tests.factories import project_body
from tests.processes import nameko_run, stop, wait_until_it_answers
from tests.moderation.conftest import PASSWORD

SERVICES = ["services.directory.service:DirectoryService", "services.moderation.service:ModerationService",
            "gateway.service:GatewayService"]


@pytest.fixture
def site(rabbit_config, web_config_port, tmp_path):
    directory_url, moderation_url = f"sqlite:///{tmp_path}/directory.db", f"sqlite:///{tmp_path}/moderation.db"
    upgrade("directory", directory_url)
    upgrade("moderation", moderation_url)
    engine = make_engine(moderation_url)
    with Session(engine) as session, session.begin():
        accounts.create_staff(session, {"email": "mod@example.org", "role": "moderator", "password": PASSWORD})
    engine.dispose()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{web_config_port}",
              "DB_URIS": {"directory:Base": directory_url, "moderation:Base": moderation_url},
              "LOGGING": {"version": 1, "root": {"level": "WARNING"}}}
    config_file = tmp_path / "config.yml"
    config_file.write_text(json.dumps(config))
    process = nameko_run(config_file, *SERVICES)
    url = f"http://127.0.0.1:{web_config_port}"
    try:
        wait_until_it_answers(f"{url}/healthz", process)
        yield url
    finally:
        stop(process)


def test_a_moderator_rejects_with_a_reason_in_the_browser(browser, site):
    from playwright.sync_api import expect

    submitted = requests.post(f"{site}/api/submissions", json=project_body(name="Browser Garden")).json()
    context = browser.new_context(base_url=site, locale="en-GB")
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.set_default_timeout(10_000)
    try:
        page.goto("/console")
        assert "/console/login" in page.url
        page.fill("#email", "mod@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("table.queue")).to_contain_text("Browser Garden")
        page.click("text=Browser Garden")
        page.check("input[name=decision][value=reject]")
        page.click("button:has-text('Save decision')")
        expect(page.locator(".error-summary")).to_contain_text("Some fields are not valid")  # no reason yet
        page.select_option("#decision-code", "not_dsi")
        page.fill("#decision-text", "This is a shop, not a social innovation.")
        page.click("button:has-text('Save decision')")
        expect(page.locator(".notice")).to_contain_text("Decision saved: reject")
        expect(page.locator("table.history")).to_contain_text("This is a shop, not a social innovation.")
        page.goto("/console/queue?state=rejected")
        expect(page.locator("table.queue")).to_contain_text("Browser Garden")
        page.click("button:has-text('Log out')")
        assert "/console/login" in page.url
        page.goto("/console/queue")
        assert "/console/login" in page.url
    finally:
        context.close()
    assert not problems, problems
    status = requests.get(f"{site}/api/submissions/{submitted['id']}", params={"token": submitted["status_token"]})
    assert re.search("shop", status.json()["reason"] or "")
