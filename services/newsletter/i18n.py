"""The few fixed phrases of the newsletter's own mails and pages, in the platform's interface languages.
A phrase missing in a language falls back to English."""

from dsi.vocab import INTERFACE_LANGUAGES as LANGUAGES

STRINGS = {
    "en": {
        "stories": "Stories of the month",
        "events": "Coming events",
        "funding": "Funding closing soon",
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
        "stories": "Geschichten des Monats",
        "events": "Kommende Veranstaltungen",
        "funding": "Förderungen mit baldiger Frist",
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
        "exists_subject": "Sie erhalten den DSI-Newsletter bereits",
        "exists_intro": "Jemand, wahrscheinlich Sie, wollte diese Adresse anmelden, die den DSI-Newsletter "
                        "bereits erhält. Es hat sich nichts geändert.",
        "why": "Sie erhalten diese E-Mail, weil Sie den Newsletter des DSI-Netzwerks abonniert haben.",
    },
    "fr": {
        "stories": "Récits du mois",
        "events": "Événements à venir",
        "funding": "Financements bientôt clos",
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
        "exists_subject": "Vous êtes déjà abonné à la lettre DSI",
        "exists_intro": "Quelqu'un, probablement vous, a demandé à abonner cette adresse, qui reçoit déjà la "
                        "lettre DSI. Rien n'a changé.",
        "why": "Vous recevez ce message parce que vous êtes abonné à la lettre du réseau DSI.",
    },
    "it": {
        "stories": "Storie del mese",
        "events": "Prossimi eventi",
        "funding": "Finanziamenti in scadenza",
        "edition_subject": "Notizie DSI: {month}",
        "for_you": "Scelti per i tuoi interessi",
        "new_projects": "Nuovi progetti",
        "new_organisations": "Nuove organizzazioni",
        "more": "… e altri {count} sul sito",
        "unsubscribe": "Annulla l'iscrizione",
        "preferences": "Modifica le tue preferenze",
        "archive": "Edizioni precedenti",
        "confirm_subject": "Conferma l'iscrizione alla newsletter DSI",
        "confirm_intro": "Conferma di voler ricevere la newsletter mensile DSI.",
        "confirm_button": "Conferma l'iscrizione",
        "confirm_ignore": "Se non l'hai chiesto tu, ignora questa email: non verrai iscritto.",
        "exists_subject": "Sei già iscritto alla newsletter DSI",
        "exists_intro": "Qualcuno, probabilmente tu, ha chiesto di iscrivere questo indirizzo, che riceve già "
                        "la newsletter DSI. Non è cambiato nulla.",
        "why": "Ricevi questa email perché ti sei iscritto alla newsletter della rete DSI.",
    },
    "es": {
        "stories": "Historias del mes",
        "events": "Próximos eventos",
        "funding": "Financiación que cierra pronto",
        "edition_subject": "Noticias DSI: {month}",
        "for_you": "Seleccionado según tus intereses",
        "new_projects": "Nuevos proyectos",
        "new_organisations": "Nuevas organizaciones",
        "more": "… y {count} más en la web",
        "unsubscribe": "Darse de baja",
        "preferences": "Cambiar tus preferencias",
        "archive": "Ediciones anteriores",
        "confirm_subject": "Confirma tu suscripción al boletín DSI",
        "confirm_intro": "Confirma que quieres recibir el boletín mensual de DSI.",
        "confirm_button": "Confirmar mi suscripción",
        "confirm_ignore": "Si no lo has pedido, ignora este correo: no quedarás suscrito.",
        "exists_subject": "Ya estás suscrito al boletín DSI",
        "exists_intro": "Alguien, probablemente tú, ha pedido suscribir esta dirección, que ya recibe el "
                        "boletín DSI. No ha cambiado nada.",
        "why": "Recibes este correo porque te suscribiste al boletín de la red DSI.",
    },
    "ca": {
        "stories": "Històries del mes",
        "events": "Propers esdeveniments",
        "funding": "Finançament que tanca aviat",
        "edition_subject": "Notícies DSI: {month}",
        "for_you": "Seleccionat segons els teus interessos",
        "new_projects": "Projectes nous",
        "new_organisations": "Organitzacions noves",
        "more": "… i {count} més al web",
        "unsubscribe": "Donar-se de baixa",
        "preferences": "Canviar les teves preferències",
        "archive": "Edicions anteriors",
        "confirm_subject": "Confirma la teva subscripció al butlletí DSI",
        "confirm_intro": "Confirma que vols rebre el butlletí mensual de DSI.",
        "confirm_button": "Confirmar la subscripció",
        "confirm_ignore": "Si no ho has demanat, ignora aquest correu: no quedaràs subscrit.",
        "exists_subject": "Ja estàs subscrit al butlletí DSI",
        "exists_intro": "Algú, probablement tu, ha demanat subscriure aquesta adreça, que ja rep el butlletí "
                        "DSI. No ha canviat res.",
        "why": "Reps aquest correu perquè et vas subscriure al butlletí de la xarxa DSI.",
    },
    "pl": {
        "stories": "Historie miesiąca",
        "events": "Nadchodzące wydarzenia",
        "funding": "Finansowanie z bliskim terminem",
        "edition_subject": "Wiadomości DSI: {month}",
        "for_you": "Wybrane według Twoich zainteresowań",
        "new_projects": "Nowe projekty",
        "new_organisations": "Nowe organizacje",
        "more": "… i {count} więcej na stronie",
        "unsubscribe": "Wypisz się",
        "preferences": "Zmień swoje preferencje",
        "archive": "Poprzednie wydania",
        "confirm_subject": "Potwierdź subskrypcję newslettera DSI",
        "confirm_intro": "Potwierdź, że chcesz otrzymywać comiesięczny newsletter DSI.",
        "confirm_button": "Potwierdź subskrypcję",
        "confirm_ignore": "Jeśli to nie Ty, zignoruj tę wiadomość: nie zostaniesz zapisany.",
        "exists_subject": "Ten adres jest już zapisany na newsletter DSI",
        "exists_intro": "Ktoś, prawdopodobnie Ty, poprosił o zapisanie tego adresu, który już otrzymuje "
                        "newsletter DSI. Nic się nie zmieniło.",
        "why": "Otrzymujesz tę wiadomość, ponieważ zapisałeś się na newsletter sieci DSI.",
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
