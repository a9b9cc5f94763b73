"""The few fixed phrases of the newsletter's own mails and pages, in the platform's interface languages.
A phrase missing in a language falls back to English."""

from dsi.vocab import INTERFACE_LANGUAGES as LANGUAGES

STRINGS = {
    "en": {
        "edition_subject": "DSI news: {month}",
        "for_you": "Picked for your interests",
        "new_projects": "New projects",
        "new_organisations": "New organisations",
        "more": "… and {count} more on the website",
        "unsubscribe": "Unsubscribe",
        "preferences": "Change your preferences",
        "archive": "Past editions",
        "confirm_subject": "Confirm your subscription to the DSI newsletter",
        "confirm_intro": "Please confirm that you want to receive the monthly DSI newsletter.",
        "confirm_button": "Confirm my subscription",
        "confirm_ignore": "If you did not ask for this, ignore this mail: you will not be subscribed.",
        "exists_subject": "You are already subscribed to the DSI newsletter",
        "exists_intro": "Someone, probably you, asked to subscribe this address, which already receives "
                        "the DSI newsletter. Nothing has changed.",
        "why": "You receive this because you subscribed to the DSI network newsletter.",
    },
    "de": {
        "edition_subject": "DSI-Neuigkeiten: {month}",
        "for_you": "Passend zu Ihren Interessen",
        "new_projects": "Neue Projekte",
        "new_organisations": "Neue Organisationen",
        "more": "… und {count} weitere auf der Website",
        "unsubscribe": "Abmelden",
        "preferences": "Einstellungen ändern",
        "archive": "Frühere Ausgaben",
        "confirm_subject": "Bestätigen Sie Ihr Abonnement des DSI-Newsletters",
        "confirm_intro": "Bitte bestätigen Sie, dass Sie den monatlichen DSI-Newsletter erhalten möchten.",
        "confirm_button": "Abonnement bestätigen",
        "confirm_ignore": "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail.",
    },
    "fr": {
        "edition_subject": "Nouvelles DSI : {month}",
        "for_you": "Sélection selon vos intérêts",
        "new_projects": "Nouveaux projets",
        "new_organisations": "Nouvelles organisations",
        "more": "… et {count} de plus sur le site",
        "unsubscribe": "Se désabonner",
        "preferences": "Modifier vos préférences",
        "archive": "Éditions précédentes",
        "confirm_subject": "Confirmez votre abonnement à la lettre DSI",
        "confirm_intro": "Merci de confirmer que vous souhaitez recevoir la lettre mensuelle DSI.",
        "confirm_button": "Confirmer mon abonnement",
        "confirm_ignore": "Si vous n'avez rien demandé, ignorez ce message.",
    },
    "it": {
        "edition_subject": "Notizie DSI: {month}",
        "new_projects": "Nuovi progetti",
        "new_organisations": "Nuove organizzazioni",
        "unsubscribe": "Annulla l'iscrizione",
        "confirm_button": "Conferma l'iscrizione",
    },
    "es": {
        "edition_subject": "Noticias DSI: {month}",
        "new_projects": "Nuevos proyectos",
        "new_organisations": "Nuevas organizaciones",
        "unsubscribe": "Darse de baja",
        "confirm_button": "Confirmar mi suscripción",
    },
    "ca": {
        "edition_subject": "Notícies DSI: {month}",
        "new_projects": "Projectes nous",
        "new_organisations": "Organitzacions noves",
        "unsubscribe": "Donar-se de baixa",
        "confirm_button": "Confirmar la subscripció",
    },
    "pl": {
        "edition_subject": "Wiadomości DSI: {month}",
        "new_projects": "Nowe projekty",
        "new_organisations": "Nowe organizacje",
        "unsubscribe": "Wypisz się",
        "confirm_button": "Potwierdź subskrypcję",
    },
}


class Phrases:
    """`t.key` or `t("key", count=3)` in templates: the phrase in one language, English where it lacks one."""

    def __init__(self, language: str):
        self.language = language if language in LANGUAGES else "en"
        self._own = STRINGS.get(self.language, {})

    def __call__(self, key: str, **values) -> str:
        phrase = self._own.get(key) or STRINGS["en"][key]
        return phrase.format(**values) if values else phrase

    def __getattr__(self, key: str) -> str:
        if key not in STRINGS["en"]:  # an AttributeError, as jinja2 expects when it probes for attributes
            raise AttributeError(key)
        return self(key)
