"""Fixtures of the search tests. Two tiers, as everywhere:

- contract: the engine over each backend (embedded always; Elasticsearch when ELASTICSEARCH_URL names a server),
  fed with public records of the shape the directory publishes (`make_record`);
- integration: the search service in a real nameko container on a throwaway RabbitMQ vhost, beside a real
  directory and the gateway (see test_service.py).
"""
import os
import uuid

import pytest

from dsi import countries, kinds, vocab
from services.search.backends import make_backend
from services.search.engine import SearchEngine

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL")


def _terms(vocabulary: str, slugs):
    return [{"value": slug, "label": vocab.label(vocabulary, slug)} for slug in slugs]


@pytest.fixture
def make_record():
    """A public record as the directory's `record_published` carries it; any field overridden."""
    def make(id, name, kind="organisation", **overrides):
        country = overrides.pop("country", "ES")
        record = {
            "id": id, "kind": kind, "name": name, "website": "",
            "short_description": overrides.pop("short_description", f"About {name}."),
            "long_description": overrides.pop("long_description", ""),
            "country": country, "country_name": countries.name(country) if country else None,
            "city": overrides.pop("city", ""), "latitude": None, "longitude": None, "start_date": None,
            "tags": [], "version": 1,
            "created_at": "2017-01-01T00:00:00+00:00", "updated_at": None,
            "published_at": overrides.pop("published_at", f"2020-01-01T00:00:{id % 60:02d}+00:00"),
        }
        if kind == "organisation":
            type_, size = overrides.pop("organisation_type", None), overrides.pop("organisation_size", None)
            record.update(address="", logo_url="", network_tags=[], projects=[],
                          organisation_type=_terms("organisation_type", [type_])[0] if type_ else None,
                          organisation_size=_terms("organisation_size", [size])[0] if size else None)
        else:
            record.update(social_impact="", status={"value": "live", "label": "Live"}, end_date=None,
                          organisations=[])
            for facet in ("social_areas", "technologies", "dsi_focus"):
                record[facet] = _terms(facet, overrides.pop(facet, []))
        record.update(overrides)
        return record
    return make


@pytest.fixture
def make_item():
    """A published content item as content's `content_published` carries it (services/content/views.py
    `event_item`); any field overridden."""
    def make(id, title, kind="story", **overrides):
        segment = kinds.BY_NAME[kind].segment
        slug = overrides.pop("slug", vocab.slugify(title))
        cluster = overrides.pop("cluster", None)
        body = overrides.pop("body_text", f"The body of {title}.")
        item = {
            "id": id, "kind": kind, "name": title, "title": title, "slug": slug, "url": f"/{segment}/{slug}",
            "lang": "en", "original_lang": "en", "languages": ["en"],
            "summary": overrides.pop("summary", f"About {title}."),
            "cluster": {"value": cluster, "label": vocab.label("social_areas", cluster)} if cluster else None,
            "social_areas": _terms("social_areas", overrides.pop("social_areas", [])),
            "images": [], "published_at": overrides.pop("published_at", f"2026-01-01T00:00:{id % 60:02d}+00:00"),
            "updated_at": None, "version": 1, "body_html": f"<p>{body}</p>", "body_text": body, "translations": {},
        }
        if kind == "event":
            country = overrides.pop("country", "BE")
            item.update(starts_at="2026-06-01T09:00:00+00:00", ends_at=None, timezone="Europe/Brussels",
                        country=country, country_name=countries.name(country) if country else None,
                        city=overrides.pop("city", "Brussels"), venue=overrides.pop("venue", ""),
                        organiser=overrides.pop("organiser", ""))
        if kind == "funding":
            item.update(countries=overrides.pop("countries", []), europe_wide=overrides.pop("europe_wide", True),
                        funder_name=overrides.pop("funder_name", "A funder"), closes_on="2026-07-01",
                        rolling=False)
        item.update(overrides)
        return item
    return make


BACKENDS = ["embedded", "elasticsearch"]


def open_engine(backend: str, folder):
    """An empty index on `backend` and the function that removes it; Elasticsearch only with a server."""
    if backend == "elasticsearch":
        if not ELASTICSEARCH_URL:
            pytest.skip("Elasticsearch runs only when ELASTICSEARCH_URL names a server (none can run here)")
        config = {"SEARCH_BACKEND": "elasticsearch", "ELASTICSEARCH_URL": ELASTICSEARCH_URL,
                  "ELASTICSEARCH_INDEX": f"dsi-test-{uuid.uuid4().hex[:8]}"}
    else:
        config = {"SEARCH_BACKEND": "embedded"}
    index = make_backend(config, folder)

    def remove():
        if backend == "elasticsearch":
            index.drop()
        index.close()
    return SearchEngine(index), remove


@pytest.fixture(scope="session")
def open_index():
    """open_engine, for fixtures of a wider scope than `engine`."""
    return open_engine


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    """An empty index on each backend."""
    engine, remove = open_engine(request.param, tmp_path / "index")
    yield engine
    remove()
