"""The whole platform behind its gateway, for the tests of hostile visitors: directory, search, moderation (with
an admin) and newsletter (mailing to an SMTP sink) in real nameko containers on a throwaway RabbitMQ vhost."""
import pytest
import requests
from sqlalchemy.orm import Session

from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.content.service import ContentService
from services.directory.service import DirectoryService
from services.moderation import accounts
from services.moderation.service import ModerationService
from services.newsletter.service import NewsletterService
from services.search.service import SearchService
from tests.factories import project_body
from tests.helpers import eventually, publish
from tests.moderation.conftest import PASSWORD
from tests.newsletter.conftest import newsletter_config, sink  # noqa: F401 (sink: the SMTP server fixture)

ADMIN = "admin@example.org"


@pytest.fixture
def whole_platform(runner_factory, rabbit_config, web_config, web_config_port, tmp_path, engine_for, sink):
    """`start(**settings)` → {"base": the gateway's URL, "record_id": a published project, "sink": the mails}."""

    def start(**settings):
        urls = {service: f"sqlite:///{tmp_path}/{service}.db" for service in ("directory", "moderation", "newsletter",
                                                                          "content")}
        for service, url in urls.items():
            upgrade(service, url)
        record_id = publish(engine_for(urls["directory"]), project_body(name="Care Map"))[0]
        with Session(engine_for(urls["moderation"])) as session, session.begin():
            accounts.create_staff(session, {"email": ADMIN, "role": "admin", "password": PASSWORD})
        config = {**rabbit_config, **web_config, **newsletter_config(sink.port),
                  "DB_URIS": {f"{service}:Base": url for service, url in urls.items()},
                  "SEARCH_BACKEND": "embedded", "SEARCH_INDEX_DIR": str(tmp_path / "search"),
                  "MEDIA_DIR": str(tmp_path / "media"), **settings}
        # content too: search builds its index from every owner, and waits for each at its start
        runner_factory(config, DirectoryService, SearchService, ModerationService, NewsletterService, ContentService,
                       GatewayService).start()
        base = f"http://127.0.0.1:{web_config_port}"
        eventually(lambda: requests.get(f"{base}/api/projects/{record_id}", timeout=5).status_code == 200, 30)
        return {"base": base, "record_id": record_id, "sink": sink}

    return start
