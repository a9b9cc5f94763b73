"""Requests a client may send badly, answered with a clear 4xx that every client can read."""
import http.client
import json
import urllib.error
import urllib.request

import pytest

from gateway.service import GatewayService


@pytest.fixture
def gateway(container_factory, rabbit_config, web_config, web_config_port):
    container_factory(GatewayService, {**rabbit_config, **web_config}).start()
    return f"127.0.0.1:{web_config_port}"


def test_a_body_over_the_limit_gets_a_413_that_urllib_reads(gateway):
    body = json.dumps({"name": "x" * (1024 * 1024)}).encode()
    request = urllib.request.Request(f"http://{gateway}/api/submissions", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["error"] == "PAYLOAD_TOO_LARGE"


def test_a_form_over_the_limit_gets_a_413_page(gateway):
    body = ("name=" + "x" * (600 * 1024)).encode()
    request = urllib.request.Request(f"http://{gateway}/join/organisation", data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    page = refused.value.read().decode()
    assert refused.value.code == 413, page
    assert "<html" in page.lower()


def chunked_post(gateway: str, path: str, chunks: list[bytes]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection(gateway, timeout=30)
    try:
        connection.request("POST", path, body=iter(chunks), encode_chunked=True,
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def test_a_chunked_body_is_read_and_bounded(gateway):
    # `{}` read as sent: a submission missing its fields (422 naming them), not an empty body (400)
    status, body = chunked_post(gateway, "/api/submissions", [b"{", b"}"])
    assert status == 422 and body["error"] == "VALIDATION_ERROR", body
    status, body = chunked_post(gateway, "/api/submissions", [b'{"name": "'] + [b"x" * 65536] * 8 + [b'"}'])
    assert status == 413 and body["error"] == "PAYLOAD_TOO_LARGE", body


@pytest.mark.parametrize("depth", [40, 5000, 100_000])
def test_deeply_nested_json_is_a_400(gateway, depth):
    connection = http.client.HTTPConnection(gateway, timeout=30)
    try:
        connection.request("POST", "/api/submissions", body=b"[" * depth + b"]" * depth,
                           headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        assert answer.status == (413 if depth * 2 > 256 * 1024 else 400)
        assert json.loads(answer.read())["error"] in ("BAD_REQUEST", "PAYLOAD_TOO_LARGE")
    finally:
        connection.close()


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/submissions", {"POST"}),
    ("PUT", "/api/search", {"GET"}),
    ("POST", "/healthz", {"GET"}),
    ("GET", "/api/submissions", {"POST"}),
    ("DELETE", "/search", {"GET"}),
])
def test_an_undeclared_method_gets_a_405_naming_the_allowed_ones(gateway, method, path, allowed):
    connection = http.client.HTTPConnection(gateway, timeout=30)
    try:
        connection.request(method, path)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 405
        assert {value.strip() for value in answer.getheader("Allow").split(",")} - {"HEAD", "OPTIONS"} == allowed
    finally:
        connection.close()


@pytest.mark.parametrize("method, path", [("GET", "/api/nothing"), ("POST", "/nothing"), ("GET", "/nothing")])
def test_an_unknown_address_is_still_a_404(gateway, method, path):
    connection = http.client.HTTPConnection(gateway, timeout=30)
    try:
        connection.request(method, path, body=b"x" * 1000 if method == "POST" else None)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 404
    finally:
        connection.close()
