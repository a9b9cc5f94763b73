"""Fixtures of the website's tests. Integration tier only: the gateway's pages are driven over real HTTP with the
directory (SQLite) and search services in real nameko containers on a throwaway RabbitMQ vhost; records are
published in the directory's database as moderation would publish them, and reach search through its events.
"""

import pytest
from sqlalchemy.orm import Session

from dsi import events
from dsi.messaging import OutboxWriter
from gateway.service import GatewayService
from services.directory import records
from services.directory.models import Outbox
from services.directory.service import DirectoryService
from services.content.service import ContentService
from services.search.service import SearchService
from tests.factories import organisation_body, project_body
from tests.helpers import migrated_sqlite, publish

XSS = ('<p>Safe <strong>text</strong></p><script>alert("x")</script>'
       '<a href="javascript:alert(1)">click</a><img src=x onerror=alert(2)>')


def submit_pending(engine, body) -> dict:
    outbox = OutboxWriter(Outbox, events.DIRECTORY)
    with Session(engine) as session, session.begin():
        return records.submit(session, outbox, body, "http://dsi.test")


SAMPLE = [
    organisation_body(name="Fundació Barceló", city="Palma", country="ES"),
    organisation_body(name="Waag Society", city="Amsterdam", country="NL", organisation_type="For-profit business"),
    organisation_body(name="Fundacja ePaństwo", city="Warszawa", country="PL"),
    project_body(name="Care Map", country="PL", social_areas=["Health and care"]),
    project_body(name="Decidim Barcelona", country="ES", city="Barcelona", social_areas=["Digital democracy"],
                 latitude=41.39, longitude=2.17),
    project_body(name="Smart Citizen Kit", country="ES", social_areas=["Food, environment and climate change"],
                 long_description=XSS, social_impact=XSS),
]


@pytest.fixture
def config(rabbit_config, web_config, tmp_path):
    urls = migrated_sqlite(tmp_path, "directory", "content")
    return {**rabbit_config, **web_config, "DB_URIS": {f"{name}:Base": url for name, url in urls.items()},
            "MEDIA_DIR": str(tmp_path / "media"),
            "SEARCH_BACKEND": "embedded", "SEARCH_INDEX_DIR": str(tmp_path / "search"),
            "SEARCH_CATCH_UP_DELAY": 0.2, "PUBLIC_URL": "http://dsi.test",
            "RATE_LIMITS": {"submit": "1000/hour", "edit": "1000/hour"}}


@pytest.fixture
def directory_db(config, engine_for):
    return engine_for(config["DB_URIS"]["directory:Base"])


@pytest.fixture
def sample_ids(directory_db):
    """Ids of SAMPLE, published before the services start (search builds its index from the directory)."""
    return dict(zip([body["name"] for body in SAMPLE], publish(directory_db, *SAMPLE)))


@pytest.fixture
def site(runner_factory, config, sample_ids):
    """The directory, content, search and the gateway, running over the sample records."""
    runner = runner_factory(config, DirectoryService, ContentService, SearchService, GatewayService)
    runner.start()
    return sample_ids
