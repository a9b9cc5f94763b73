"""Generated directories: a small one for trying the platform when the real 2017 export is not at hand, and large
ones (`dsi demo-data --count 50000`) for measuring it, made of the export's own words and places where it is."""
import random
import re
from pathlib import Path

from dsi import vocab
from dsi.errors import InvalidInput

from . import importer, records
from .models import Record, RecordLink

CITIES = [("ES", "Barcelona", 41.39, 2.17), ("PL", "Warszawa", 52.23, 21.01), ("NL", "Amsterdam", 52.37, 4.9),
          ("IT", "Milano", 45.46, 9.19), ("DE", "Berlin", 52.52, 13.4), ("FR", "Lyon", 45.76, 4.84),
          ("GB", "London", 51.51, -0.13), ("PT", "Lisboa", 38.72, -9.14), ("GR", "Athína", 37.98, 23.73)]
WORDS = ["Open", "Civic", "Care", "Commons", "Data", "Maker", "Green", "Neighbour", "Learning", "Citizen"]
NOUNS = ["Lab", "Network", "Collective", "Hub", "Platform", "Foundation", "Cooperative", "Map", "Atelier"]
TAGS = ["demo", "community", "open source", "co-design", "civic tech"]
WORD = re.compile(r"[^\W_]+")
HOST_WORD = re.compile(r"[a-z0-9]+")


class BuiltInWords:
    """Names of 19 words and nine cities: readable demo records. Many of them are alike: at 100,000 records a
    word of a name is in a tenth to three quarters of the directory, which no real directory looks like."""
    source = "the built-in word list"
    places = CITIES

    def name(self, rng: random.Random) -> str:
        return f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(NOUNS)}"

    def texts(self, rng: random.Random, name: str, kind: str, city: str) -> tuple[str, str]:
        return (f"{name} is a demo {kind} in {city}, generated for trying the platform.",
                f"<p>{name} works with people in {city}. This record is generated demo data.</p>")

    def tags(self, rng: random.Random) -> list[str]:
        return rng.sample(TAGS, 2)


class ExportWords:
    """The DSI4EU export's words, places and tags, recombined: a name takes a first, a middle and a last word of
    real names; a text takes words of real summaries as often as they occur there. A word is then about as rare
    among the generated records as among the real ones."""

    def __init__(self, path: Path):
        exported = importer.read_export(path)
        fields = [make(item) for kind, (_file, _id, make, *_rest) in importer.KINDS.items()
                  for item in exported[kind] if isinstance(item, dict)]
        names = [words for words in (item["name"].split() for item in fields) if len(words) >= 2]
        self.firsts = [words[0] for words in names]
        self.middles = [word for words in names for word in words[1:-1]] or self.firsts
        self.lasts = [words[-1] for words in names]
        self.text_words = [word for item in fields for word in WORD.findall(item["short_description"])]
        self.places = [(item["country"], item["city"], item["latitude"], item["longitude"]) for item in fields
                       if item["country"] and item["latitude"] is not None]
        self.all_tags = [tag for item in fields for tag in item["tags"]] or TAGS
        self.source = f"the words, places and tags of the DSI4EU export at {path}"
        if not (self.firsts and self.text_words and self.places):
            raise InvalidInput(f"{path}: too few names, texts or places to generate records from.")

    def name(self, rng: random.Random) -> str:
        return f"{rng.choice(self.firsts)} {rng.choice(self.middles)} {rng.choice(self.lasts)}"

    def texts(self, rng: random.Random, name: str, kind: str, city: str) -> tuple[str, str]:
        short = " ".join(rng.choices(self.text_words, k=rng.randint(8, 30))) + "."
        return short, "<p>" + " ".join(rng.choices(self.text_words, k=rng.randint(20, 80))) + ".</p>"

    def tags(self, rng: random.Random) -> list[str]:
        return sorted(set(rng.choices(self.all_tags, k=2)))


Words = BuiltInWords | ExportWords


def words_for(export: Path | None) -> Words:
    return ExportWords(export) if export else BuiltInWords()


def demo_fields(kind: str, rng: random.Random, words: Words) -> dict:
    country, city, latitude, longitude = rng.choice(words.places)
    name = words.name(rng)
    short_description, long_description = words.texts(rng, name, kind, city)
    common = {
        "name": name, "website": f"https://{'-'.join(HOST_WORD.findall(name.lower())) or 'demo'}.example.org",
        "short_description": short_description,
        "long_description": long_description,
        "country": country, "city": city,
        "latitude": round(latitude + rng.uniform(-0.05, 0.05), 5),
        "longitude": round(longitude + rng.uniform(-0.05, 0.05), 5),
        "tags": words.tags(rng),
    }
    if kind == "organisation":
        return {**common, "organisation_type": rng.choice(list(vocab.ORGANISATION_TYPES)),
                "organisation_size": rng.choice(list(vocab.ORGANISATION_SIZES))}
    return {**common, "status": "live", "social_areas": rng.sample(list(vocab.SOCIAL_AREAS), 2),
            "technologies": rng.sample(list(vocab.TECHNOLOGIES), 2), "dsi_focus": rng.sample(list(vocab.DSI_FOCUS), 1)}


BATCH = 1_000  # pairs per transaction: a session tracking 100,000 records made each publish's autoflush crawl


def load_demo(session, outbox, count: int = 40, rng: random.Random | None = None, words: Words | None = None) -> int:
    """Publish `count` generated organisations and as many projects, each project linked to an organisation."""
    rng, words = rng or random.Random(2017), words or BuiltInWords()
    created = {"organisation": [], "project": []}
    for kind in created:
        for _ in range(count):
            fields = demo_fields(kind, rng, words)
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
