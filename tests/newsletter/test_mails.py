"""Unit tier: a submitter's mails are written in the language they used, from the interface's catalogues, and
whatever they typed stays text."""
import pytest

from dsi.i18n import LANGUAGES
from services.newsletter import composing

URL = "http://dsi.test"
MAILS = ["submission_received", "submission_approved", "submission_changes_requested", "submission_rejected",
         "subscription_confirm", "subscription_exists"]


def render(template: str, language: str, **context):
    context = {"name": "Kraków <b>Care</b>", "action": "create", "kind": "project", **context}
    return composing.render(f"mail/{template}", {**context, "language": language})


def test_a_polish_submitter_reads_polish_and_is_linked_to_polish_pages():
    received = render("submission_received", "pl", status_url=f"{URL}/pl/submissions/s1?token=t",
                      confirm_url=f"{URL}/pl/submissions/s1/confirm?token=c")
    assert received.subject == "Otrzymaliśmy Kraków <b>Care</b>: czeka na sprawdzenie"
    assert "Dziękujemy za zgłoszenie „Kraków <b>Care</b>”." in received.text
    assert f"Potwierdź swój adres e-mail: {URL}/pl/submissions/s1/confirm?token=c" in received.text
    assert "Dziękujemy za zgłoszenie „Kraków &lt;b&gt;Care&lt;/b&gt;”." in received.html  # typed text stays text
    assert '<html lang="pl">' in received.html and "Thank you" not in received.text + received.html

    approved = render("submission_approved", "pl", record_url=f"{URL}/pl/projects/7",
                      edit_url=f"{URL}/pl/records/7/edit?token=e")
    assert f'<a href="{URL}/pl/projects/7">Zobacz na stronie</a>' in approved.html
    assert f"Zobacz na stronie: {URL}/pl/projects/7" in approved.text


def test_a_decision_names_its_reason_by_its_label_in_the_language():
    rejected = render("submission_rejected", "de", reason_label="Spam or advertising", reason="Werbung",
                      reason_code="spam")
    assert "Ihre Begründung: Spam oder Werbung" in rejected.text and "spam" not in rejected.text.replace(
        "Spam", "")
    assert rejected.subject == "Kraków <b>Care</b> wurde nicht angenommen"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
@pytest.mark.parametrize("template", MAILS)
def test_every_mail_is_translated(template, language):
    context = {"reason": "…", "reason_label": "Information is missing", "edit_url": "e", "status_url": "s",
               "confirm_url": "c", "record_url": "r", "preferences_url": "p"}
    english, translated = render(template, "en", **context), render(template, language, **context)
    assert translated.subject != english.subject
    untranslated = (set(english.text.splitlines()) - {"", "…", "--"}) & set(translated.text.splitlines())
    assert untranslated == set()


def test_the_subscription_mail_reads_in_the_subscribers_language():
    confirm = render("subscription_confirm", "ca", confirm_url=f"{URL}/ca/newsletter/confirm?token=c")
    assert confirm.subject == "Confirma la teva subscripció al butlletí DSI"
    assert f"{URL}/ca/newsletter/confirm?token=c" in confirm.text and '<html lang="ca">' in confirm.html
