"""Browser tests: the real pages in headless Chromium (Debian's package, see deploy/ensure-chromium.sh), served by
the real gateway over the directory, search, moderation and content services, over the sample records of
tests/web; a moderator account works the moderation console, an editor account the content console.

The services run in their own process (`nameko run`): Playwright blocks the test's thread while it waits for the
browser, which would starve services running in the test's own eventlet hub.
"""
import json

import pytest

from sqlalchemy.orm import Session

from dsi.database import make_engine
from dsi.migrations import upgrade
from services.moderation import accounts
from tests.processes import nameko_run, stop, wait_until_it_answers
from tests.web.conftest import config, directory_db, sample_ids  # noqa: F401  (shared fixtures)

SERVICES = ["services.directory.service:DirectoryService", "services.content.service:ContentService",
            "services.search.service:SearchService",
            "services.moderation.service:ModerationService", "gateway.service:GatewayService"]
MODERATOR = {"email": "moderator@example.org", "role": "moderator", "password": "a long moderator password"}
EDITOR = {"email": "editor@example.org", "role": "editor", "password": "a long editor password"}

@pytest.fixture
def site(config, sample_ids, tmp_path, web_config_port):
    """The platform as its own process, on the test's RabbitMQ vhost and database; its address."""
    moderation_url, content_url = f"sqlite:///{tmp_path}/moderation.db", f"sqlite:///{tmp_path}/content.db"
    upgrade("moderation", moderation_url)
    upgrade("content", content_url)
    engine = make_engine(moderation_url)
    with Session(engine) as session, session.begin():
        accounts.create_staff(session, MODERATOR)
        accounts.create_staff(session, EDITOR)
    engine.dispose()
    config_file = tmp_path / "config.yml"
    config_file.write_text(json.dumps({**config, "DB_URIS": {**config["DB_URIS"], "moderation:Base": moderation_url,
                                                             "content:Base": content_url},
                                       "MEDIA_DIR": str(tmp_path / "media"),
                                       "LOGGING": {"version": 1, "root": {"level": "WARNING"}}}))
    process = nameko_run(config_file, *SERVICES)
    url = f"http://127.0.0.1:{web_config_port}"
    try:
        wait_until_it_answers(f"{url}/api/search", process)  # search answers once its index is built
        yield url
    finally:
        stop(process)


@pytest.fixture
def page(browser, site):
    """A fresh browser tab on the running site; fails the test if the page broke its Content-Security-Policy
    or threw a script error."""
    context = browser.new_context(base_url=site, locale="en-GB")
    tab = context.new_page()
    problems = []
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("console", lambda message: problems.append(message.text)
           if message.type == "error" and "Content Security Policy" in message.text else None)
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    assert not problems, problems
