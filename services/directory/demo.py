"""A small generated directory for trying the platform when the real 2017 export is not at hand."""
import random

from dsi import vocab

from . import records
from .models import Record, RecordLink

CITIES = [("ES", "Barcelona", 41.39, 2.17), ("PL", "Warszawa", 52.23, 21.01), ("NL", "Amsterdam", 52.37, 4.9),
          ("IT", "Milano", 45.46, 9.19), ("DE", "Berlin", 52.52, 13.4), ("FR", "Lyon", 45.76, 4.84),
          ("GB", "London", 51.51, -0.13), ("PT", "Lisboa", 38.72, -9.14), ("GR", "Athína", 37.98, 23.73)]
WORDS = ["Open", "Civic", "Care", "Commons", "Data", "Maker", "Green", "Neighbour", "Learning", "Citizen"]
NOUNS = ["Lab", "Network", "Collective", "Hub", "Platform", "Foundation", "Cooperative", "Map", "Atelier"]


def demo_fields(kind: str, rng: random.Random) -> dict:
    country, city, latitude, longitude = rng.choice(CITIES)
    name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(NOUNS)}"
    common = {
        "name": name, "website": f"https://{name.lower().replace(' ', '-')}.example.org",
        "short_description": f"{name} is a demo {kind} in {city}, generated for trying the platform.",
        "long_description": f"<p>{name} works with people in {city}. This record is generated demo data.</p>",
        "country": country, "city": city,
        "latitude": round(latitude + rng.uniform(-0.05, 0.05), 5),
        "longitude": round(longitude + rng.uniform(-0.05, 0.05), 5),
        "tags": rng.sample(["demo", "community", "open source", "co-design", "civic tech"], 2),
    }
    if kind == "organisation":
        return {**common, "organisation_type": rng.choice(list(vocab.ORGANISATION_TYPES)),
                "organisation_size": rng.choice(list(vocab.ORGANISATION_SIZES))}
    return {**common, "status": "live", "social_areas": rng.sample(list(vocab.SOCIAL_AREAS), 2),
            "technologies": rng.sample(list(vocab.TECHNOLOGIES), 2), "dsi_focus": rng.sample(list(vocab.DSI_FOCUS), 1)}


BATCH = 1_000  # pairs per transaction: a session tracking 100,000 records made each publish's autoflush crawl


def load_demo(session, outbox, count: int = 40, rng: random.Random | None = None) -> int:
    """Publish `count` generated organisations and as many projects, each project linked to an organisation."""
    rng = rng or random.Random(2017)
    created = {"organisation": [], "project": []}
    for kind in created:
        for _ in range(count):
            fields = demo_fields(kind, rng)
            record = Record(kind=kind, status=records.PUBLISHED, name=fields["name"], version=0)
            records.apply_fields(session, record, fields)
            session.add(record)
            created[kind].append(record)
    session.flush()
    for organisation, project in zip(created["organisation"], created["project"]):
        session.add(RecordLink(organisation_id=organisation.id, project_id=project.id, role="lead"))
    session.flush()
    for record in created["organisation"] + created["project"]:
        record.published_at = record.created_at
        records.publish(session, outbox, record)
    return 2 * count
