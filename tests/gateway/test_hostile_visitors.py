"""Hostile visitors at the real gateway, as the probes of issue 16 tried: a page of another site sending writes,
oversized forms, the newsletter's sign-up limit, logins that probe which accounts exist, and invalid submissions
spending a client's limit."""
import re

import pytest
import requests

from tests.factories import project_body
from tests.gateway.conftest import ADMIN
from tests.moderation.conftest import PASSWORD

pytestmark = pytest.mark.integration

EVIL = "https://evil.example"


def _csrf(session: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=10).text).group(1)


@pytest.fixture
def site(whole_platform):
    return whole_platform(PROXY_HOPS=1, SIGNUPS_PER_CLIENT_HOUR=2, LOGIN_MAX_FAILURES=3,
                          RATE_LIMITS={"submit": "2/hour", "report": "100/hour", "login": "1000/minute"})


def test_another_sites_page_cannot_write(site):
    base, sink = site["base"], site["sink"]
    as_text = requests.post(f"{base}/api/submissions", data=str(project_body()).encode(),
                            headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 415 and as_text.json()["error"] == "UNSUPPORTED_MEDIA_TYPE"
    report = requests.post(f"{base}/api/records/project/{site['record_id']}/reports",
                           json={"reason_code": "spam"}, headers={"Origin": EVIL})
    assert report.status_code == 403 and report.json()["error"] == "CROSS_SITE"
    preflight = requests.options(f"{base}/api/records/project/{site['record_id']}/reports", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert not any(name.lower().startswith("access-control-allow") for name in preflight.headers)
    fetched = requests.post(f"{base}/api/submissions", json=project_body(email="victim@example.org"),
                            headers={"Sec-Fetch-Site": "cross-site"})
    assert fetched.status_code == 403
    own = requests.post(f"{base}/api/records/project/{site['record_id']}/reports", json={"reason_code": "spam"},
                        headers={"Origin": base, "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 202, own.text  # the site's own pages still write
    assert sink.to("victim@example.org") == []


def test_oversized_forms_get_a_413_page(site):
    base = site["base"]
    visitor = requests.Session()
    for page, target in (("/join/project", "/join/project"), ("/newsletter", "/newsletter/subscribe"),
                         ("/console/login", "/console/login")):
        token = _csrf(visitor, base + page)
        for size in (300 * 1024, 700 * 1024):
            answer = visitor.post(base + target, data={"csrf_token": token, "name": "x" * size})
            assert answer.status_code == 413, (target, size, answer.text[:300])
            assert answer.headers["Content-Type"].startswith("text/html") and "<html" in answer.text


def test_the_newsletter_sign_up_limit_answers_429(site):
    base = site["base"]
    visitor = requests.Session()
    token = _csrf(visitor, base + "/newsletter")
    answers = [visitor.post(base + "/newsletter/subscribe", data={"csrf_token": token,
                                                                  "email": f"reader{n}@example.org"})
               for n in range(3)]
    assert [answer.status_code for answer in answers] == [202, 202, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0 and "<html" in answers[-1].text
    api = requests.post(base + "/api/newsletter/subscribe", json={"email": "reader9@example.org"})
    assert api.status_code == 429 and api.json()["error"] == "RATE_LIMITED" and "Retry-After" in api.headers


def test_invalid_submissions_do_not_spend_the_clients_limit(site):
    base = site["base"]
    for _ in range(3):
        assert requests.post(f"{base}/api/submissions", json={"kind": "project"}).status_code == 422
    visitor = requests.Session()
    token = _csrf(visitor, base + "/join/project")
    assert visitor.post(base + "/join/project", data={"csrf_token": token, "name": ""}).status_code == 422
    assert [requests.post(f"{base}/api/submissions", json=project_body(name=f"Valid {n}")).status_code
            for n in range(3)] == [202, 202, 429]


def _log_in(base: str, email: str, password: str, client: str) -> requests.Response:
    session = requests.Session()
    headers = {"X-Forwarded-For": client}
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      session.get(base + "/console/login", headers=headers).text).group(1)
    return session.post(base + "/console/login", data={"email": email, "password": password, "csrf_token": token},
                        headers=headers, allow_redirects=False)


def _shown(answer: requests.Response, email: str) -> tuple[int, str]:
    """What a login answer tells, with the address it echoes in the form and its fresh CSRF token taken out."""
    return answer.status_code, re.sub(r'name="csrf_token" value="[^"]+"', "", answer.text.replace(email, "EMAIL"))


def test_logins_tell_nothing_about_which_accounts_exist_and_lock_out_per_client(site):
    base = site["base"]
    unknown = "nobody@example.org"
    first = [(_shown(_log_in(base, ADMIN, "wrong", "203.0.113.5"), ADMIN),
              _shown(_log_in(base, unknown, "wrong", "203.0.113.5"), unknown)) for _ in range(4)]
    for known_answer, unknown_answer in first:  # the same answer, failure after failure, then the same lock
        assert known_answer == unknown_answer
    assert [known[0] for known, _ in first] == [403, 403, 403, 429]
    assert _log_in(base, ADMIN, PASSWORD, "203.0.113.5").status_code == 429  # this client waits …
    assert _log_in(base, ADMIN, PASSWORD, "198.51.100.7").status_code == 303  # … the admin elsewhere does not
