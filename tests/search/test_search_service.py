"""The search service for real: nameko containers on a throwaway RabbitMQ vhost, beside a real directory and a
real content service (their SQLite databases, their outbox relays) and the gateway over HTTP."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.utils import get_extension
from prometheus_client import REGISTRY
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy.orm import Session

from dsi import events
from dsi.errors import InvalidInput
from gateway.service import GatewayService
from dsi.messaging import OutboxWriter
from services.content import items
from services.content.models import Outbox as ContentOutbox
from services.content.service import ContentService
from services.directory.service import DirectoryService
from services.search import commands, entrypoints
from services.search.dependencies import SearchIndex
from services.search.service import SearchService
from tests.factories import organisation_body, project_body
from tests.web import test_openapi as openapi
from tests.helpers import eventually, migrated_sqlite, publish


@pytest.fixture
def config(rabbit_config, web_config, tmp_path):
    urls = migrated_sqlite(tmp_path, "directory", "content")
    return {**rabbit_config, **web_config, "DB_URIS": {f"{name}:Base": url for name, url in urls.items()},
            "MEDIA_DIR": str(tmp_path / "media"), "PUBLIC_URL": "https://dsi.test",
            "SEARCH_BACKEND": "embedded", "SEARCH_INDEX_DIR": str(tmp_path / "search"),
            "SEARCH_CATCH_UP_DELAY": 0.2}


def index_of(runner):
    """The running search service's own index, to change behind its back."""
    [container] = [container for container in runner.containers if container.service_name == "search"]
    return get_extension(container, SearchIndex).engine


@pytest.fixture
def directory_db(config, engine_for):
    return engine_for(config["DB_URIS"]["directory:Base"])


def test_a_new_instance_builds_its_index_from_the_directory_before_it_answers(
        runner_factory, config, directory_db, web_session):
    publish(directory_db, organisation_body(name="Fundació Barceló", city="Palma"),
            project_body(name="Care Map"))
    runner = runner_factory(config, DirectoryService, ContentService, SearchService, GatewayService)
    runner.start()
    # No waiting: the search RPC queue is served only once the index holds the directory's published set.
    found = web_session.get("/api/search", params={"q": "barcelo"}).json()
    assert [item["name"] for item in found["items"]] == ["Fundació Barceló"]
    assert found["items"][0]["snippet"]
    assert web_session.get("/api/search").json()["total"] == 2


def test_published_becomes_searchable_and_unpublished_disappears(runner_factory, config, directory_db, web_session):
    runner = runner_factory(config, DirectoryService, ContentService, SearchService, GatewayService)
    runner.start()
    response = web_session.post("/api/submissions", json=project_body(name="Decidim Barcelona"))
    assert response.status_code == 202
    submission = response.json()
    assert web_session.get("/api/search", params={"q": "decidim"}).json()["total"] == 0  # pending: never

    dispatch = event_dispatcher(config)
    dispatch(events.MODERATION, events.SUBMISSION_APPROVED, events.envelope(
        events.MODERATION, events.SUBMISSION_APPROVED,
        {"submission_id": submission["id"], "record_id": submission["record_id"], "reason_code": None,
         "reason": None, "moderator": "test"}))
    found = eventually(lambda: web_session.get("/api/search", params={"q": "decidm barc"}).json()["items"])
    assert [item["name"] for item in found] == ["Decidim Barcelona"]
    assert web_session.get("/api/suggest", params={"q": "deci"}).json() == [
        {"id": submission["record_id"], "kind": "project", "name": "Decidim Barcelona",
         "url": f"/projects/{submission['record_id']}"}]

    dispatch(events.MODERATION, events.RECORD_HIDDEN, events.envelope(
        events.MODERATION, events.RECORD_HIDDEN, {"record_id": submission["record_id"], "reason_code": "spam"}))
    assert eventually(lambda: web_session.get("/api/search", params={"q": "decidim"}).json()["total"] == 0)


def test_every_embedded_instance_receives_every_event(container_factory, config, directory_db):
    directory = container_factory(DirectoryService, config)
    content = container_factory(ContentService, config)
    first = container_factory(SearchService, config)
    second = container_factory(SearchService, config)
    for container in (directory, content, first, second):
        container.start()
    indexes = [get_extension(container, SearchIndex) for container in (first, second)]
    assert indexes[0].instance.folder != indexes[1].instance.folder  # each claimed its own folder and identity

    lag_before = REGISTRY.get_sample_value("dsi_search_publish_lag_seconds_count")
    [record_id] = publish(directory_db, organisation_body(name="Waag Society", country="NL"))

    def searchable_everywhere():
        return all(index.engine.suggest("waag", 8) == [{"id": record_id, "kind": "organisation",
                                                        "name": "Waag Society", "url": f"/organisations/{record_id}"}]
                   for index in indexes)
    assert eventually(searchable_everywhere)
    # Each instance receives the event and measures its way from the directory's commit to its index (the start-up
    # catch-up may have indexed the record first, while the event waited in the outbox for the queues to be bound).
    assert eventually(lambda: REGISTRY.get_sample_value("dsi_search_publish_lag_seconds_count") == lag_before + 2, 30)
    assert REGISTRY.get_sample_value("dsi_search_documents") == 1


def test_broadcast_queues_expire_within_hours_beside_an_older_generation(
        container_factory, config, rabbit_config, rabbit_manager):
    """An instance gone for good leaves its broadcast queues behind: they must expire within hours. Queues of an
    older generation (declared with other arguments) stay on a broker after an upgrade and must not stop a start."""
    identity = "0123456789abcdef0123456789abcdef"
    folder = Path(config["SEARCH_INDEX_DIR"]) / "instance-1"
    folder.mkdir(parents=True)
    (folder / "id").write_text(identity)
    old_name = f"evt-directory-record_published--search.on_record_published-{identity}"
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        Queue(old_name, Exchange("directory.events", type="topic", durable=True), routing_key="record_published",
              durable=True, queue_arguments={"x-expires": 7 * 24 * 3600 * 1000})(connection.default_channel).declare()

    for service in (DirectoryService, ContentService, SearchService):
        container_factory(service, config).start()

    queues = {queue["name"]: queue for queue in rabbit_manager.get_queues(rabbit_config["vhost"])}
    broadcast = [name for name in queues if "--search." in name and name != old_name]
    assert {name.split("--search.")[1].split("-")[0] for name in broadcast} >= {
        "on_record_published", "on_record_unpublished", "on_maintenance_requested"}
    for name in broadcast:
        assert name.endswith(f"-{identity}-{entrypoints.QUEUE_GENERATION}")
        assert queues[name]["durable"]
        assert queues[name]["arguments"] == {"x-expires": entrypoints.QUEUE_EXPIRES_MS}
    assert entrypoints.QUEUE_EXPIRES_MS <= 6 * 3600 * 1000
    # The old queue is left as it was, to its own expiry (or the operator's policy), with nobody reading it.
    assert queues[old_name]["arguments"] == {"x-expires": 7 * 24 * 3600 * 1000}
    assert not rabbit_manager.get_queue(rabbit_config["vhost"], old_name).get("consumer_details")


def test_gateway_refuses_bad_parameters_with_field_errors(runner_factory, config, web_session):
    runner = runner_factory(config, DirectoryService, ContentService, SearchService, GatewayService)
    runner.start()
    response = web_session.get("/api/search", params={"country": "Atlantis", "sort": "random", "bbox": "1,2"})
    assert response.status_code == 422
    assert set(response.json()["details"]) == {"country", "sort", "bbox"}
    assert web_session.get("/api/search", params={"per_page": "lots"}).status_code == 422
    assert web_session.get("/api/suggest", params={"limit": 99}).status_code == 422
    for deep in ({"q": "data", "page": 1_000_000_000}, {"page": 10**40}, {"page": 501}):  # refused by the service
        assert web_session.get("/api/search", params=deep).status_code == 422
    listed = web_session.get("/api/search", params=[("kind", "project"), ("country", "ES,PL"), ("country", "NL")])
    assert listed.status_code == 200
    body = listed.json()
    assert {"items", "total", "page", "per_page", "facets", "did_you_mean"} <= set(body)
    assert {entry["value"] for entry in body["facets"]["country"]} == {"ES", "PL", "NL"}


def test_reindex_and_search_check_from_the_command_line(
        runner_factory, config, directory_db, monkeypatch, capsys):
    runner = runner_factory(config, DirectoryService, ContentService, SearchService)
    runner.start()
    [record_id] = publish(directory_db, organisation_body(name="Nesta"))
    with ServiceRpcProxy("search", config) as search:
        assert eventually(lambda: search.query({"q": "nesta"})["total"] == 1)
        monkeypatch.setenv("AMQP_URI", config["AMQP_URI"])
        assert commands.search_check(_args(fix=False)) == 0
        assert "the index matches the directory" in capsys.readouterr().out

        # drift: the record disappears from the index behind the service's back
        index_of(runner).record_unpublished(record_id, 99)
        assert commands.search_check(_args(fix=False)) == 1
        assert "1 published but not searchable" in capsys.readouterr().out

        assert commands.reindex(_args()) == 0
        assert "1 documents" in capsys.readouterr().out
        assert search.query({"q": "nesta"})["total"] == 1
        assert commands.search_check(_args(fix=False)) == 0


def _args(**values):
    class Args:
        json = False
        fix = False
    args = Args()
    for name, value in values.items():
        setattr(args, name, value)
    return args


# --- content's items --------------------------------------------------------------------------------------------

EDITOR = "editor@dsi.test"


@pytest.fixture
def write_content(config, engine_for):
    """Change content the way its editors' RPCs do (its domain module, its outbox); the running content
    service's relay sends the events."""
    engine = engine_for(config["DB_URIS"]["content:Base"])

    def write(change):
        with Session(engine) as session:
            item = change(session, OutboxWriter(ContentOutbox, events.CONTENT))
            session.commit()
            return item.id
    return write


def _story(title, body, publish=True):
    def change(session, outbox):
        item = items.create(session, outbox, "story", {"title": title, "body": body}, EDITOR)
        if publish:
            items.transition(session, outbox, item.id, "publish", EDITOR)
        return item
    return change


def _transition(item_id, action, **extra):
    return lambda session, outbox: items.transition(session, outbox, item_id, action, EDITOR, **extra)


def test_content_published_becomes_searchable_unpublished_goes_drafts_never(
        runner_factory, config, directory_db, write_content, web_session):
    # published before search starts: a new instance builds its index from content too, before it answers
    published_early = write_content(_story("Repair cafés in Kraków",
                                           "Volunteers fix *toasters* every Thursday in Łódź too."))
    publish(directory_db, organisation_body(name="Waag Society", country="NL"))
    runner = runner_factory(config, DirectoryService, ContentService, SearchService, GatewayService)
    runner.start()
    found = web_session.get("/api/search", params={"q": "toasters"}).json()["items"]
    assert [(item["id"], item["kind"], item["url"]) for item in found] == [
        (published_early, "story", "/stories/repair-cafes-in-krakow")]
    assert "<mark>toasters</mark>" in found[0]["snippet"]

    write_content(_story("A secret draft", "Nobody may read about zeppelins yet.", publish=False))
    later = write_content(_story("Open hardware meetup", "Bring your soldering iron."))
    scheduled = write_content(_story("Tomorrow's news", "Embargoed words about quasars.", publish=False))
    write_content(_transition(scheduled, "schedule", publish_at=datetime.now(timezone.utc) + timedelta(days=1)))
    assert eventually(lambda: web_session.get("/api/search", params={"q": "soldering"}).json()["total"] == 1)
    for hidden in ("zeppelins", "quasars", "secret"):  # the later publication arrived: these never will
        assert web_session.get("/api/search", params={"q": hidden}).json()["total"] == 0

    kinds_found = web_session.get("/api/search", params={"kind": "stories"}).json()
    assert kinds_found["total"] == 2
    assert {entry["value"]: entry["count"] for entry in kinds_found["facets"]["kind"]} == {
        "story": 2, "organisation": 1}
    document = web_session.get("/api/openapi.json").json()  # content's hits are documented as they are
    spec = Registry().with_resource(openapi.URI, DRAFT202012.create_resource(document))
    openapi.check(spec, "/api/search", "get", 200, kinds_found)
    openapi.check(spec, "/api/suggest", "get", 200, web_session.get("/api/suggest", params={"q": "open"}).json())
    page = web_session.get("/search", params={"q": "soldering"})
    assert page.status_code == 200 and 'href="/stories/open-hardware-meetup"' in page.text

    write_content(_transition(later, "unpublish"))
    assert eventually(lambda: web_session.get("/api/search", params={"q": "soldering"}).json()["total"] == 0)
    write_content(_transition(published_early, "archive"))
    assert eventually(lambda: web_session.get("/api/search", params={"q": "toasters"}).json()["total"] == 0)
    assert web_session.get("/api/search", params={"q": "waag"}).json()["total"] == 1


def test_search_check_and_reindex_cover_content(runner_factory, config, write_content, monkeypatch, capsys):
    runner = runner_factory(config, DirectoryService, ContentService, SearchService)
    runner.start()
    story = write_content(_story("Civic tech in Tallinn", "Digital identity for everyone."))
    with ServiceRpcProxy("search", config) as search:
        assert eventually(lambda: search.query({"q": "tallinn"})["total"] == 1)
        monkeypatch.setenv("AMQP_URI", config["AMQP_URI"])
        assert commands.search_check(_args(fix=False)) == 0
        assert "published in content: 1 items" in capsys.readouterr().out

        index_of(runner).content_unpublished(story, 99)  # drift behind its back
        assert search.query({"q": "tallinn"})["total"] == 0
        assert commands.search_check(_args(fix=False)) == 1
        assert f"1 published but not searchable: {story}" in capsys.readouterr().out
        assert commands.reindex(_args()) == 0
        assert search.query({"q": "tallinn"})["total"] == 1
        assert commands.search_check(_args(fix=False)) == 0

def test_the_map_network_and_groupings_answer_over_rpc_and_follow_new_records(
        runner_factory, config, directory_db):
    organisation, project = publish(
        directory_db, organisation_body(name="Waag", country="NL", latitude=52.37, longitude=4.90),
        project_body(name="Smart Citizen", country="ES", latitude=41.39, longitude=2.17))
    runner = runner_factory(config, DirectoryService, ContentService, SearchService)  # search waits for both owners
    runner.start()
    with ServiceRpcProxy("search", config) as search:
        countries = search.map_countries({})
        assert [{key: item[key] for key in ("country", "name", "count")} for item in countries["items"]] == [
            {"country": "ES", "name": "Spain", "count": 1}, {"country": "NL", "name": "Netherlands", "count": 1}]
        spain = countries["items"][0]  # and per million inhabitants, to three significant figures
        assert spain["population"] > 40_000_000 and spain["per_million"] == float(f"{1e6 / spain['population']:.3g}")
        assert search.map_countries({}) == countries  # the same question again: the kept answer
        features = search.map_features({"zoom": 3})["features"]
        assert sorted(feature["properties"]["name"] for feature in features) == ["Smart Citizen", "Waag"]
        assert {node["id"] for node in search.network({})["nodes"]} == {organisation, project}
        assert [group["value"] for group in search.groupings({"by": "kind"})["groups"]] == ["organisation", "project"]
        with pytest.raises(InvalidInput) as refused:
            search.map_features({"zoom": 30})
        assert "zoom" in refused.value.details

        publish(directory_db, organisation_body(name="Fab Lab Barcelona", country="ES", latitude=41.40,
                                                longitude=2.19))
        assert eventually(lambda: [search.map_countries({})["items"][0][key] for key in ("country", "count")] ==
                          ["ES", 2])
