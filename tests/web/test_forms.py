"""Joining the network through the web forms: CSRF, honeypot, rate limit, field errors next to the fields with
the input kept, then the status, confirmation and edit pages the directory's emails link to."""
import html
import re
from urllib.parse import parse_qs, urlsplit

from nameko.standalone.events import event_dispatcher
from sqlalchemy.orm import Session

from dsi import events, signing
from services.directory import records
from services.directory.models import Record
from tests.helpers import eventually

PROJECT_FORM = {
    "name": "Open Care Circles",
    "short_description": "Neighbours who look after each other.",
    "long_description": "<p>Circles of <em>care</em></p><script>alert(1)</script>",
    "country": "PL", "city": "Gdańsk", "status": "live",
    "social_areas": ["health-and-care", "digital-democracy"], "technologies": ["open-data"],
    "tags": "care, neighbours", "email": "circles@example.org",
}


def form_token(session, path: str) -> str:
    page = session.get(path)
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def post_form(session, path: str, data: dict, **kwargs):
    return session.post(path, data={**data, "csrf_token": form_token(session, path)}, allow_redirects=False,
                        **kwargs)


def test_a_project_goes_from_the_form_through_moderation_to_its_page(site, web_session, rabbit_config):
    sent = post_form(web_session, "/join/project", PROJECT_FORM)
    assert sent.status_code == 303
    location = sent.headers["Location"]
    submission_id = location.split("/submissions/")[1].split("?")[0]
    token = parse_qs(urlsplit(location).query)["token"][0]

    status = web_session.get(location).text
    assert "Waiting for review" in status and "Thank you! Your entry has been sent for review." in status

    confirm_token = signing.sign(signing.SUBMISSION_CONFIRM, submission_id)
    confirm_path = f"/submissions/{submission_id}/confirm?token={confirm_token}"
    assert "Confirm my email address" in web_session.get(confirm_path).text  # a GET confirms nothing
    confirmed = post_form(web_session, confirm_path, {})
    assert confirmed.status_code == 200 and "your email address is confirmed" in confirmed.text

    api_status = web_session.get(f"/api/submissions/{submission_id}", params={"token": token}).json()
    assert api_status["email_confirmed"] is True
    assert web_session.get(f"/projects/{api_status['record_id']}").status_code == 404  # not public yet

    dispatch = event_dispatcher(rabbit_config)
    dispatch(events.MODERATION, events.SUBMISSION_APPROVED, events.envelope(
        events.MODERATION, events.SUBMISSION_APPROVED,
        {"submission_id": submission_id, "record_id": api_status["record_id"], "reason_code": None, "reason": None,
         "moderator": "test"}))
    assert eventually(lambda: "Approved and published" in web_session.get(location).text)
    page = web_session.get(f"/projects/{api_status['record_id']}").text
    assert "Open Care Circles" in page and "<em>care</em>" in page and "<script>alert" not in page
    assert eventually(lambda: web_session.get("/api/search", params={"q": "care circles"}).json()["total"] == 1)


def test_field_errors_show_next_to_the_fields_and_the_input_is_kept(site, web_session):
    bad = {**PROJECT_FORM, "name": "<b>x", "email": "not-an-email"}
    response = post_form(web_session, "/join/project", bad)
    assert response.status_code == 422
    html = response.text
    assert re.search(r'<p class="field-error" id="email-error">[^<]+</p>\s*<input id="email"', html)
    assert 'aria-invalid="true"' in html and 'id="latitude' not in html  # placed by its city, never typed
    assert 'value="&lt;b&gt;x"' in html  # kept, escaped
    assert re.search(r'value="health-and-care" checked', html) and re.search(r'value="digital-democracy" checked', html)
    assert "Gdańsk" in html


def test_forms_refuse_posts_without_a_valid_token(site, web_session):
    no_token = web_session.post("/join/project", data=PROJECT_FORM, allow_redirects=False)
    assert no_token.status_code == 403 and 'class="site-header"' in no_token.text
    form_token(web_session, "/join/project")  # the cookie is set, but a forged field does not match it
    forged = web_session.post("/join/project", data={**PROJECT_FORM, "csrf_token": "forged"}, allow_redirects=False)
    assert forged.status_code == 403


def test_the_honeypot_stops_robots(site, web_session):
    response = post_form(web_session, "/join/organisation", {"name": "Spam", "nickname": "bot"})
    assert response.status_code == 422
    assert 'href="#nickname">Leave this field empty</a>: Leave this field empty.' in response.text


def test_submissions_through_forms_are_rate_limited(runner_factory, config, web_session):
    from gateway.service import GatewayService
    from services.directory.service import DirectoryService
    runner_factory({**config, "RATE_LIMITS": {"submit": "1/hour"}}, DirectoryService, GatewayService).start()
    assert post_form(web_session, "/join/project", PROJECT_FORM).status_code == 303
    refused = post_form(web_session, "/join/project", PROJECT_FORM)
    assert refused.status_code == 429 and "Open Care Circles" in refused.text  # the input is not lost


def edit_token(engine, record_id) -> str:
    with Session(engine) as session:
        return records.edit_token(session.get(Record, record_id))


def test_the_edit_link_shows_the_record_and_sends_a_revision(site, web_session, directory_db):
    record_id = site["Care Map"]
    token = edit_token(directory_db, record_id)
    assert token.split(".")[0] == str(record_id) and "@" not in token  # an id, a time and a MAC: nothing personal
    path = f"/records/{record_id}/edit?token={token}"
    form = web_session.get(path).text
    assert 'value="Care Map"' in form and re.search(r'value="health-and-care" checked', form)
    assert 'name="email"' not in form
    data = dict(re.findall(r'<input id="(\w+)" name="\w+" type="(?:text|url|date)" value="([^"]*)"', form))
    data.update(short_description="A map of care, updated.", status="live", social_areas=["health-and-care"])
    sent = post_form(web_session, path, data)
    assert sent.status_code == 303
    assert "Waiting for review" in web_session.get(sent.headers["Location"]).text
    # the published version stays public until the revision is approved
    assert "A map of community care services." in web_session.get(f"/projects/{record_id}").text


def test_bad_links_get_a_clear_page(site, web_session, directory_db):
    assert web_session.get("/submissions/abc?token=nope").status_code == 403
    assert web_session.get(f"/records/{site['Care Map']}/edit?token=nope").status_code == 403
    other = edit_token(directory_db, next(id_ for name, id_ in site.items() if name != "Care Map"))
    assert web_session.get(f"/records/{site['Care Map']}/edit?token={other}").status_code == 403
    forged = signing.sign_ref(signing.RECORD_EDIT, site["Care Map"], "0:published:attacker@example.org")
    assert web_session.get(f"/records/{site['Care Map']}/edit?token={forged}").status_code == 403


def test_field_errors_speak_the_pages_language(site, web_session):
    response = post_form(web_session, "/pl/join/project", {**PROJECT_FORM, "name": "", "email": "not-an-email"})
    assert response.status_code == 422
    assert re.search(r'id="email-error">Podaj adres e-mail, na przykład imie@example.org.</p>', response.text)
    assert re.search(r'id="name-error">Wypełnij to pole.</p>', response.text)
    assert "Niektóre pola wymagają poprawy:" in response.text and "Field required" not in response.text


def test_a_polish_submission_is_mailed_in_polish_with_links_to_polish_pages(site, web_session, event_spy):
    spy = event_spy(events.DIRECTORY, events.MAIL_REQUESTED)
    sent = post_form(web_session, "/pl/join/project", PROJECT_FORM)
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/pl/submissions/")
    submission_id = urlsplit(sent.headers["Location"]).path.rsplit("/", 1)[1]

    def ours():  # one mail per event id (delivery is at least once); the sample records' own may still come
        return list({event["id"]: event["payload"] for event in spy.received
                     if event["type"] == events.MAIL_REQUESTED and event["payload"]["to"] == PROJECT_FORM["email"]}
                    .values())

    spy.drain(until=lambda got: ours())
    [mail] = ours()
    assert (mail["template"], mail["language"]) == ("submission_received", "pl")
    confirm_url = mail["context"]["confirm_url"]
    assert confirm_url.startswith(f"http://dsi.test/pl/submissions/{submission_id}/confirm?token=")
    assert mail["context"]["status_url"].startswith(f"http://dsi.test/pl/submissions/{submission_id}?token=")
    page = web_session.get(confirm_url.removeprefix("http://dsi.test"))
    assert page.status_code == 200 and '<html lang="pl">' in page.text

    forged = web_session.get(f"/pl/submissions/{submission_id}?token=forged")
    assert forged.status_code == 403 and "Ten link jest nieprawidłowy." in forged.text
    assert "This link is not valid" not in forged.text
    record = web_session.get(f"/pl/projects/{site['Care Map']}").text
    assert f'href="/pl/projects/{site["Care Map"]}/report"' in record
    report = web_session.get(f"/pl/projects/{site['Care Map']}/report").text
    assert f'action="/pl/projects/{site["Care Map"]}/report"' in report  # the report is answered in Polish too


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return [(name, html.unescape(value))
            for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)]


def test_without_javascript_a_project_is_placed_by_its_city_previewed_and_sent_with_its_organisations(
        site, web_session):
    form = {**PROJECT_FORM, "organisation": ["waag society", "Gdańsk Care Co-op", ""], "step": "preview"}
    preview = post_form(web_session, "/join/project", form)
    assert preview.status_code == 200 and "Check your entry" in preview.text
    assert "Nothing has been sent yet." in preview.text and "<script>alert(1)" not in preview.text
    assert re.search(r"waag society — in the directory", preview.text)
    assert re.search(r"Gdańsk Care Co-op — <strong>new: proposed to the directory", preview.text)
    fields = hidden_fields(preview.text)
    latitude, longitude = (float(value) for name, value in fields if name in ("latitude", "longitude"))
    assert abs(latitude - 54.35) < 0.05 and abs(longitude - 18.65) < 0.05  # Gdańsk, from the gazetteer

    moved = [(name, "54.4" if name == "latitude" else value) for name, value in fields if name != "csrf_token"]
    sent = web_session.post("/join/project", data=moved + [("step", "send"), ("csrf_token", dict(fields)["csrf_token"])],
                            allow_redirects=False)
    assert sent.status_code == 303
    status = web_session.get(sent.headers["Location"]).text
    assert "What happens next" in status and "usually within five working days" in status
    assert re.search(r"<li>Gdańsk Care Co-op: Waiting for review</li>", status)
    token = parse_qs(urlsplit(sent.headers["Location"]).query)["token"][0]
    submission_id = urlsplit(sent.headers["Location"]).path.rsplit("/", 1)[1]
    api_status = web_session.get(f"/api/submissions/{submission_id}", params={"token": token}).json()
    assert api_status["proposed_organisations"] == [{"name": "Gdańsk Care Co-op", "state": "pending"}]


def test_an_unknown_city_is_said_and_the_change_button_brings_the_form_back_filled_in(site, web_session):
    form = {**PROJECT_FORM, "city": "Qwxzville", "step": "preview"}
    preview = post_form(web_session, "/pl/join/project", form)
    assert preview.status_code == 200 and "Nie znaleźliśmy „Qwxzville”" in preview.text
    assert 'name="latitude"' not in preview.text
    back = web_session.post("/pl/join/project", data=hidden_fields(preview.text) + [("step", "change")])
    assert back.status_code == 200 and 'value="Qwxzville"' in back.text and 'value="Open Care Circles"' in back.text


def test_the_edit_link_opens_the_same_form_with_its_organisations(site, web_session, directory_db):
    record_id = site["Care Map"]
    path = f"/records/{record_id}/edit?token={edit_token(directory_db, record_id)}"
    form = web_session.get(path).text
    assert 'name="organisation"' in form and 'name="step" value="preview"' in form
    assert re.search(r'name="latitude" value="50.06"', form)  # the point placed earlier is kept
    data = {**dict(re.findall(r'<input id="(\w+)" name="\w+" type="(?:text|url|date)" value="([^"]*)"', form)),
            "organisation": ["Fundacja ePaństwo", "Nowhere Yet Foundation"], "status": "live", "step": "preview"}
    refused = post_form(web_session, path, data)
    assert refused.status_code == 422
    assert "Only organisations already in the directory can be added here." in refused.text
