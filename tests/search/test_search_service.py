"""The search service for real: nameko containers on a throwaway RabbitMQ vhost, beside a real directory (its
SQLite database, its outbox relay) and the gateway over HTTP."""

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.utils import get_extension

from dsi import events
from dsi.errors import InvalidInput
from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.directory.service import DirectoryService
from services.search import commands
from services.search.dependencies import SearchIndex
from services.search.service import SearchService
from tests.factories import organisation_body, project_body
from tests.helpers import eventually, publish


@pytest.fixture
def config(rabbit_config, web_config, sqlite_url, tmp_path):
    upgrade("directory", sqlite_url)
    return {**rabbit_config, **web_config, "DB_URIS": {"directory:Base": sqlite_url},
            "SEARCH_BACKEND": "embedded", "SEARCH_INDEX_DIR": str(tmp_path / "search"),
            "SEARCH_CATCH_UP_DELAY": 0.2}


@pytest.fixture
def directory_db(config, engine_for):
    return engine_for(config["DB_URIS"]["directory:Base"])


def test_a_new_instance_builds_its_index_from_the_directory_before_it_answers(
        runner_factory, config, directory_db, web_session):
    publish(directory_db, organisation_body(name="Fundació Barceló", city="Palma"),
            project_body(name="Care Map"))
    runner = runner_factory(config, DirectoryService, SearchService, GatewayService)
    runner.start()
    # No waiting: the search RPC queue is served only once the index holds the directory's published set.
    found = web_session.get("/api/search", params={"q": "barcelo"}).json()
    assert [item["name"] for item in found["items"]] == ["Fundació Barceló"]
    assert found["items"][0]["snippet"]
    assert web_session.get("/api/search").json()["total"] == 2


def test_published_becomes_searchable_and_unpublished_disappears(runner_factory, config, directory_db, web_session):
    runner = runner_factory(config, DirectoryService, SearchService, GatewayService)
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
        {"id": submission["record_id"], "kind": "project", "name": "Decidim Barcelona"}]

    dispatch(events.MODERATION, events.RECORD_HIDDEN, events.envelope(
        events.MODERATION, events.RECORD_HIDDEN, {"record_id": submission["record_id"], "reason_code": "spam"}))
    assert eventually(lambda: web_session.get("/api/search", params={"q": "decidim"}).json()["total"] == 0)


def test_every_embedded_instance_receives_every_event(container_factory, config, directory_db):
    directory = container_factory(DirectoryService, config)
    first = container_factory(SearchService, config)
    second = container_factory(SearchService, config)
    for container in (directory, first, second):
        container.start()
    indexes = [get_extension(container, SearchIndex) for container in (first, second)]
    assert indexes[0].instance.folder != indexes[1].instance.folder  # each claimed its own folder and identity

    [record_id] = publish(directory_db, organisation_body(name="Waag Society", country="NL"))

    def searchable_everywhere():
        return all(index.engine.suggest("waag", 8) == [{"id": record_id, "kind": "organisation",
                                                        "name": "Waag Society"}] for index in indexes)
    assert eventually(searchable_everywhere)


def test_gateway_refuses_bad_parameters_with_field_errors(runner_factory, config, web_session):
    runner = runner_factory(config, DirectoryService, SearchService, GatewayService)
    runner.start()
    response = web_session.get("/api/search", params={"country": "Atlantis", "sort": "random", "bbox": "1,2"})
    assert response.status_code == 422
    assert set(response.json()["details"]) == {"country", "sort", "bbox"}
    assert web_session.get("/api/search", params={"per_page": "lots"}).status_code == 422
    assert web_session.get("/api/suggest", params={"limit": 99}).status_code == 422
    listed = web_session.get("/api/search", params=[("kind", "project"), ("country", "ES,PL"), ("country", "NL")])
    assert listed.status_code == 200
    body = listed.json()
    assert {"items", "total", "page", "per_page", "facets", "did_you_mean"} <= set(body)
    assert {entry["value"] for entry in body["facets"]["country"]} == {"ES", "PL", "NL"}


def test_reindex_and_search_check_from_the_command_line(
        runner_factory, config, directory_db, monkeypatch, capsys):
    runner = runner_factory(config, DirectoryService, SearchService)
    runner.start()
    [record_id] = publish(directory_db, organisation_body(name="Nesta"))
    with ServiceRpcProxy("search", config) as search:
        assert eventually(lambda: search.query({"q": "nesta"})["total"] == 1)
        monkeypatch.setenv("AMQP_URI", config["AMQP_URI"])
        assert commands.search_check(_args(fix=False)) == 0
        assert "the index matches the directory" in capsys.readouterr().out

        # drift: the record disappears from the index behind the service's back
        [container] = [container for container in runner.containers if container.service_name == "search"]
        get_extension(container, SearchIndex).engine.record_unpublished(record_id, 99)
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


def test_the_map_network_and_groupings_answer_over_rpc_and_follow_new_records(
        runner_factory, config, directory_db):
    organisation, project = publish(
        directory_db, organisation_body(name="Waag", country="NL", latitude=52.37, longitude=4.90),
        project_body(name="Smart Citizen", country="ES", latitude=41.39, longitude=2.17))
    runner = runner_factory(config, DirectoryService, SearchService)
    runner.start()
    with ServiceRpcProxy("search", config) as search:
        countries = search.map_countries({})
        assert countries == {"items": [{"country": "ES", "name": "Spain", "count": 1},
                                       {"country": "NL", "name": "Netherlands", "count": 1}]}
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
        assert eventually(lambda: search.map_countries({})["items"][0] == {"country": "ES", "name": "Spain",
                                                                            "count": 2})
