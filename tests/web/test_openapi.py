"""The OpenAPI document describes what the API really answers: live responses are validated against it."""
import re

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.factories import project_body

URI = "https://dsi.test/openapi.json"


@pytest.fixture
def spec(site, web_session):
    """The served document, as a registry in which response schemas resolve by JSON pointer."""
    document = web_session.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    return Registry().with_resource(URI, DRAFT202012.create_resource(document))


def check(registry, path: str, method: str, status: int, body):
    pointer = "/paths/" + path.replace("~", "~0").replace("/", "~1") + f"/{method}/responses/{status}" \
              "/content/application~1json/schema"
    validator = Draft202012Validator({"$ref": f"{URI}#{pointer}"}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, f"{method.upper()} {path} {status}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_live_responses_match_the_document(spec, site, web_session):
    get = web_session.get
    check(spec, "/api/organisations", "get", 200, get("/api/organisations").json())
    check(spec, "/api/projects", "get", 200, get("/api/projects", params={"area": "health-and-care"}).json())
    refused = get("/api/organisations", params={"area": "health-and-care"})  # a filter of projects only
    check(spec, "/api/organisations", "get", 422, refused.json())
    assert refused.json()["message"] == "Organisations have no filter 'area'."
    check(spec, "/api/organisations/{id}", "get", 200, get(f"/api/organisations/{site['Waag Society']}").json())
    check(spec, "/api/projects/{id}", "get", 200, get(f"/api/projects/{site['Smart Citizen Kit']}").json())
    check(spec, "/api/projects/{id}", "get", 404, get("/api/projects/99999").json())
    check(spec, "/api/search", "get", 200, get("/api/search", params={"q": "barcelona", "country": "ES"}).json())
    check(spec, "/api/search", "get", 200, get("/api/search", params={"q": "zzzqqqx"}).json())
    check(spec, "/api/search", "get", 422, get("/api/search", params={"page": 0}).json())
    check(spec, "/api/suggest", "get", 200, get("/api/suggest", params={"q": "ca"}).json())
    check(spec, "/api/stats", "get", 200, get("/api/stats").json())
    check(spec, "/api/vocabularies", "get", 200, get("/api/vocabularies").json())
    check(spec, "/healthz", "get", 200, get("/healthz").json())
    check(spec, "/api/map", "get", 200, get("/api/map", params={"zoom": 3}).json())
    check(spec, "/api/map", "get", 200, get("/api/map", params={"zoom": 12, "bbox": "2.1,41.3,2.3,41.5"}).json())
    check(spec, "/api/map", "get", 422, get("/api/map", params={"zoom": 12}).json())
    check(spec, "/api/map/countries", "get", 200, get("/api/map/countries", params={"kind": "project"}).json())
    check(spec, "/api/network", "get", 200, get("/api/network", params={"linked": "1"}).json())
    check(spec, "/api/network", "get", 200, get("/api/network", params={"record": site["Waag Society"]}).json())
    check(spec, "/api/network", "get", 404, get("/api/network", params={"record": 99999}).json())
    check(spec, "/api/groupings", "get", 200, get("/api/groupings", params={"by": "country", "then": "kind"}).json())
    check(spec, "/api/groupings", "get", 422, get("/api/groupings", params={"by": "name"}).json())

    accepted = web_session.post("/api/submissions", json=project_body())
    check(spec, "/api/submissions", "post", 202, accepted.json())
    check(spec, "/api/submissions", "post", 422, web_session.post("/api/submissions", json={}).json())
    token = accepted.json()["status_token"]
    status = get(f"/api/submissions/{accepted.json()['id']}", params={"token": token})
    check(spec, "/api/submissions/{submission_id}", "get", 200, status.json())
    check(spec, "/api/submissions/{submission_id}", "get", 403,
                 get(f"/api/submissions/{accepted.json()['id']}", params={"token": "bad"}).json())
    withdrawn = web_session.post(f"/api/submissions/{accepted.json()['id']}/withdraw", params={"token": token})
    check(spec, "/api/submissions/{submission_id}/withdraw", "post", 200, withdrawn.json())


def test_every_route_of_the_api_is_documented(site, web_session):
    from gateway.service import GatewayService
    document = web_session.get("/api/openapi.json").json()
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    routes = set()
    for name in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, name), "nameko_entrypoints", ()):
            url = getattr(entrypoint, "url", "")
            if url.startswith("/api/") and "<path:" not in url and url != "/api/openapi.json":
                for method in entrypoint.method.split(","):
                    routes.add((url, method))
    expanded = set()
    for url, method in routes:  # a route over several collections is documented once per collection
        path = _openapi_path(url)
        choices = re.search(r"<any\(([^)]*)\):collection>", url)
        if choices:
            expanded |= {(path.replace("{collection}", c.strip('"')), method) for c in choices.group(1).split(",")}
        else:
            expanded.add((path, method))
    assert expanded <= documented, expanded - documented


def _openapi_path(url: str) -> str:
    url = re.sub(r"<any\([^)]*\):(\w+)>", r"{\1}", url)
    url = re.sub(r"<int:record_id>", "{id}", url)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url)
