"""The gateway's guards against hostile visitors, each on its own: cross-site writes and HSTS in the WSGI
middleware (driven through werkzeug's test client), the CSRF token's binding to the staff session, feeds as
plain text, a dead-lettered request answered as 503 with Retry-After, and links forged with the public key."""
import hashlib
import json

import pytest
from itsdangerous import TimestampSigner
from nameko.exceptions import RemoteError
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request, Response

from dsi import signing
from dsi.errors import Forbidden, RateLimited
from dsi.settings import PUBLIC_DEV_KEY, secret_key
from gateway.common import csrf
from gateway.common.http import HTTPS, PayloadTooLarge, ServiceUnavailable, call, retry_headers
from gateway.common.security import with_headers
from gateway.site.opendata import feed_text, rss

pytestmark = pytest.mark.unit


@Request.application
def echo(request):
    """Says what reached the application: whether it is HTTPS by the middleware's judgement."""
    return Response(json.dumps({"https": request.environ.get(HTTPS), "method": request.method}),
                    mimetype="application/json")


def client(public_url="http://dsi.test", proxy_hops=0) -> Client:
    return Client(with_headers(echo, public_url, proxy_hops))


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("headers", [
    {"Content-Type": "text/plain"},
    {"Content-Type": "application/x-www-form-urlencoded"},
    {"Content-Type": "multipart/form-data; boundary=x"},
    {},
])
def test_api_writes_with_a_body_that_is_not_json_are_refused(headers):
    answer = client().post("/api/submissions", data=b'{"kind": "project"}', headers=headers)
    assert answer.status_code == 415
    assert answer.json["error"] == "UNSUPPORTED_MEDIA_TYPE"


def test_json_writes_and_bodiless_token_posts_pass():
    assert client().post("/api/submissions", data=b"{}", headers={"Content-Type": "application/json; charset=utf-8"}
                         ).status_code == 200
    assert client().post("/api/newsletter/confirm?token=x").status_code == 200
    assert client().post("/join/project", data={"name": "x"}).status_code == 200  # forms: CSRF token checks them


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://dsi.test.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
@pytest.mark.parametrize("method, path", [("POST", "/api/submissions"), ("PUT", "/api/records/1"),
                                          ("POST", "/join/project"), ("POST", "/console/login"),
                                          ("DELETE", "/api/anything")])
def test_writes_from_another_site_are_refused(headers, method, path):
    answer = client().open(path, method=method, data=b"{}", headers={**JSON, **headers})
    assert answer.status_code == 403
    assert answer.json["error"] == "CROSS_SITE"
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("headers", [
    {"Origin": "http://dsi.test"},  # the public address
    {"Origin": "http://localhost", "Host": "localhost"},  # the host the browser asked
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},  # typed or bookmarked
])
def test_writes_from_our_own_pages_pass(headers):
    assert client().post("/api/submissions", data=b"{}", headers={**JSON, **headers}).status_code == 200


def test_reads_from_anywhere_pass_and_one_click_unsubscribe_needs_no_origin():
    assert client().get("/api/projects", headers={"Origin": "https://evil.example"}).status_code == 200
    assert client().post("/newsletter/unsubscribe?token=x", headers={"Origin": "null"}).status_code == 200


def test_a_cors_preflight_is_answered_for_reads_only():
    read = client().options("/api/projects", headers={"Origin": "https://other.example",
                                                      "Access-Control-Request-Method": "GET"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    for method in ("POST", "PUT", "DELETE"):
        write = client().options("/api/records/project/1/reports", headers={
            "Origin": "https://other.example", "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type"})
        assert not [name for name in write.headers.keys() if name.lower().startswith("access-control-allow")]


def test_hsts_and_https_when_public_url_is_https_or_a_trusted_proxy_says_so():
    plain = client().get("/")
    assert "Strict-Transport-Security" not in plain.headers and plain.json["https"] is False
    public = client("https://dsi.example").get("/")
    assert public.headers["Strict-Transport-Security"].startswith("max-age=") and public.json["https"] is True
    behind_proxy = client(proxy_hops=1).get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in behind_proxy.headers and behind_proxy.json["https"] is True
    untrusted = client(proxy_hops=0).get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in untrusted.headers and untrusted.json["https"] is False
    spoofed = client(proxy_hops=1).get("/", headers={"X-Forwarded-Proto": "https, http"})  # the proxy saw http
    assert spoofed.json["https"] is False


def _request(cookies: dict, form: dict | None = None, https: bool = False) -> Request:
    builder = EnvironBuilder(method="POST" if form is not None else "GET", data=form,
                             headers={"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())})
    environ = builder.get_environ()
    environ[HTTPS] = https
    return Request(environ)


def _token(cookies: dict) -> tuple[str, str]:
    """A page's (csrf cookie, csrf field) for a visitor with `cookies`."""
    token = csrf.Token(_request(cookies))
    field = token.value()
    return cookies.get(csrf.COOKIE) or token.nonce, field


def test_the_csrf_token_is_bound_to_the_staff_session():
    nonce, anonymous_field = _token({})
    csrf.check(_request({csrf.COOKIE: nonce}, {csrf.FIELD: anonymous_field}))  # a visitor's own pair works
    with pytest.raises(Forbidden):  # … but not together with an admin's session cookie
        csrf.check(_request({csrf.COOKIE: nonce, csrf.STAFF_COOKIE: "admin-session"}, {csrf.FIELD: anonymous_field}))
    _, staff_field = _token({csrf.COOKIE: nonce, csrf.STAFF_COOKIE: "admin-session"})
    csrf.check(_request({csrf.COOKIE: nonce, csrf.STAFF_COOKIE: "admin-session"}, {csrf.FIELD: staff_field}))
    with pytest.raises(Forbidden):  # nor a staff member's token with another session
        csrf.check(_request({csrf.COOKIE: nonce, csrf.STAFF_COOKIE: "other-session"}, {csrf.FIELD: staff_field}))


def test_the_csrf_cookie_is_secure_over_https():
    for https in (False, True):
        token = csrf.Token(_request({}, https=https))
        token.value()
        response = Response()
        token.set_cookie(response)
        assert ("Secure" in response.headers["Set-Cookie"]) is https


def test_an_oversized_form_is_refused_before_it_is_read():
    environ = EnvironBuilder(method="POST", data={"x": "y" * 300_000}).get_environ()
    with pytest.raises(PayloadTooLarge):
        csrf.check(Request(environ))


HOSTILE = {"kind": "project", "id": 7, "name": 'Care <img src=x onerror=alert(1)>',
           "short_description": "Hi &lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;b&amp;gt;bold <b>x</b>",
           "published_at": None}


def test_feeds_carry_plain_text_without_markup_even_entity_encoded():
    feed = rss("Projects", "http://dsi.test/search", "http://dsi.test/feeds/projects.rss", [HOSTILE],
               "http://dsi.test")
    description = feed.split("<description>")[2].split("</description>")[0]
    title = feed.split("<item><title>")[1].split("</title>")[0]
    for text in (description, title):
        assert "&lt;" not in text and "<" not in text and "&amp;lt;" not in text
    assert "Hi" in description and "bold" in description and title.startswith("Care")
    assert feed_text("Tom & Jerry") == "Tom & Jerry" and "&amp;" in rss("t", "l", "f", [
        {**HOSTILE, "name": "Tom & Jerry"}], "http://dsi.test")


def test_a_dead_lettered_request_is_a_503_with_retry_after():
    def set_aside():
        raise RemoteError("PoisonMessage", "This request made the service fail repeatedly")

    with pytest.raises(ServiceUnavailable) as raised:
        call(set_aside)
    assert raised.value.status == 503 and int(retry_headers(raised.value)["Retry-After"]) > 0

    def broken():
        raise RemoteError("KeyError", "'x'")

    with pytest.raises(RemoteError):  # any other remote failure stays ours (a 500, logged)
        call(broken)


def test_a_rate_limit_without_a_retry_time_has_no_retry_after():
    assert retry_headers(RateLimited("Too many sign-ups.")) is None
    assert retry_headers(RateLimited("Too many.", {"retry_after": 30})) == {"Retry-After": "30"}


def test_a_link_forged_with_the_public_development_key_is_refused():
    def signed_with(key: str) -> str:  # an edit link for record 1 made as sign_ref makes it, with `key`
        return TimestampSigner(key, salt=f"dsi:{signing.RECORD_EDIT}:", digest_method=hashlib.sha256).sign("1").decode()

    assert signing.unsign_ref(signing.RECORD_EDIT, signed_with(secret_key())) == "1"
    with pytest.raises(Forbidden):
        signing.unsign_ref(signing.RECORD_EDIT, signed_with(PUBLIC_DEV_KEY))
    assert signing.unsign_ref(signing.RECORD_EDIT, signing.sign_ref(signing.RECORD_EDIT, 1)) == "1"
