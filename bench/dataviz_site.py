"""A small local site for the map, network and groupings views, for the benchmark (bench/dataviz.py) and for a
look without the whole platform: the gateway's templates, static files and page helpers, over a search index
held in this process (the real 2017 export, or generated records), answering the same JSON API paths as the
gateway (/api/map, /api/map/countries, /api/network, /api/groupings, /api/search).

    .venv/bin/python bench/dataviz_site.py [--generated 100000] [--port 8765]
"""
import argparse
import json
import logging
import random
import sys
import tempfile
import threading
from pathlib import Path

from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsi import countries as country_codes, events, vocab  # noqa: E402
from dsi.errors import PlatformError  # noqa: E402
from gateway.site import dataviz as dataviz_views  # noqa: E402
from gateway.common.templating import SECURITY_HEADERS, render  # noqa: E402
from services.search import dataviz  # noqa: E402
from services.search.backends import make_backend  # noqa: E402
from services.search.engine import SearchEngine  # noqa: E402
from services.search.models import document  # noqa: E402
from services.search.schemas import parse_params  # noqa: E402

REAL_EXPORT = ROOT.parent / "shared/data/dsi4eu-2017"
STATIC = ROOT / "gateway/static"
CITIES = [("ES", 40.42, -3.70), ("ES", 41.39, 2.17), ("FR", 48.86, 2.35), ("FR", 45.76, 4.84), ("DE", 52.52, 13.40),
          ("DE", 48.14, 11.58), ("IT", 41.90, 12.50), ("IT", 45.46, 9.19), ("GB", 51.51, -0.13), ("GB", 53.48, -2.24),
          ("NL", 52.37, 4.90), ("BE", 50.85, 4.35), ("PL", 52.23, 21.01), ("PL", 50.06, 19.94), ("PT", 38.72, -9.14),
          ("SE", 59.33, 18.07), ("FI", 60.17, 24.94), ("DK", 55.68, 12.57), ("AT", 48.21, 16.37), ("GR", 37.98, 23.73),
          ("CZ", 50.08, 14.44), ("HU", 47.50, 19.04), ("RO", 44.43, 26.10), ("IE", 53.35, -6.26), ("EE", 59.44, 24.75)]


def real_index(folder: Path) -> SearchEngine:
    """The 2017 export imported by the directory's own importer, and indexed as a new search instance does."""
    from dsi.database import make_engine
    from dsi.messaging import OutboxWriter
    from dsi.migrations import upgrade
    from services.directory import importer, records
    from services.directory.models import Outbox

    url = f"sqlite:///{folder}/directory.db"
    upgrade("directory", url)
    db = make_engine(url)
    with Session(db) as session, session.begin():
        importer.import_dsi4eu(session, OutboxWriter(Outbox, events.DIRECTORY), REAL_EXPORT)
    engine = SearchEngine(make_backend({"SEARCH_BACKEND": "embedded"}, folder / "index"))

    def export(after, limit):
        with Session(db) as session:
            return records.export_published(session, after, limit)
    engine.rebuild(export)
    return engine


def generated_records(count: int, seed: int = 7):
    """`count` public records around European cities: half organisations, half projects, each project linked to
    one to three organisations."""
    rng = random.Random(seed)
    organisations = count // 2
    areas, technologies, focus = list(vocab.SOCIAL_AREAS), list(vocab.TECHNOLOGIES), list(vocab.DSI_FOCUS)
    types, sizes = list(vocab.ORGANISATION_TYPES), list(vocab.ORGANISATION_SIZES)
    links: dict[int, list] = {}
    for project in range(organisations + 1, count + 1):
        for organisation in rng.sample(range(1, organisations + 1), rng.randint(1, 3)):
            role = "lead" if not links.get(project) else "partner"
            links.setdefault(project, []).append({"id": organisation, "kind": "organisation", "name": f"Organisation {organisation}", "role": role})
            links.setdefault(organisation, []).append({"id": project, "kind": "project", "name": f"Project {project}", "role": role})
    for record_id in range(1, count + 1):
        country, latitude, longitude = rng.choice(CITIES)
        kind = "organisation" if record_id <= organisations else "project"
        record = {
            "id": record_id, "kind": kind, "name": f"{kind.title()} {record_id}", "version": 1,
            "short_description": "A generated record for the benchmark.", "long_description": "",
            "country": country, "country_name": country_codes.name(country), "city": "",
            "latitude": round(latitude + rng.gauss(0, 0.6), 5), "longitude": round(longitude + rng.gauss(0, 0.9), 5),
            "start_date": f"{rng.randint(1990, 2024)}-01-01", "tags": [],
            "published_at": "2024-01-01T00:00:00+00:00", "created_at": "2024-01-01T00:00:00+00:00",
        }
        if kind == "organisation":
            record.update(organisation_type={"value": rng.choice(types), "label": ""},
                          organisation_size={"value": rng.choice(sizes), "label": ""}, projects=links.get(record_id, []))
        else:
            record.update(organisations=links.get(record_id, []), status={"value": "live", "label": "Live"},
                          **{facet: [{"value": value, "label": ""} for value in rng.sample(pool, 2)]
                             for facet, pool in (("social_areas", areas), ("technologies", technologies),
                                                 ("dsi_focus", focus))})
        yield record


def generated_index(folder: Path, count: int) -> SearchEngine:
    engine = SearchEngine(make_backend({"SEARCH_BACKEND": "embedded"}, folder / "index"))
    engine.backend.rebuild(document(record) for record in generated_records(count))
    return engine


def _args(request) -> dict:
    """A query string as the gateway passes it to the search service: lists for the facets."""
    params = {}
    for key in request.args:
        values = request.args.getlist(key)
        params[key] = values if key in dataviz.FACETS else values[-1]
    return params


class Site:
    def __init__(self, engine: SearchEngine):
        self.engine = engine
        self.backend = engine.backend
        self.answers = dataviz.AnswerCache()  # as the search service keeps them
        self.urls = Map([
            Rule("/static/<path:filename>", endpoint="static"),
            Rule("/map", endpoint="map_page"), Rule("/map/network", endpoint="network_page"),
            Rule("/map/groupings", endpoint="groupings_page"),
            Rule("/api/map", endpoint="api_map"), Rule("/api/map/countries", endpoint="api_countries"),
            Rule("/api/network", endpoint="api_network"), Rule("/api/groupings", endpoint="api_groupings"),
            Rule("/api/search", endpoint="api_search"),
        ])

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, values = self.urls.bind_to_environ(environ).match()
            response = getattr(self, endpoint)(request, **values)
        except HttpNotFound:
            response = Response("not found", 404)
        except PlatformError as error:
            response = Response(json.dumps({"error": error.code, "message": error.message,
                                            "details": error.details}), error.status, mimetype="application/json")
        framable = "frame-ancestors *" in response.headers.get("Content-Security-Policy", "")
        if framable:  # superseded by frame-ancestors in today's browsers; dropped so that older ones agree
            response.headers.pop("X-Frame-Options", None)
        for name, value in SECURITY_HEADERS.items():
            if not (framable and name == "X-Frame-Options"):  # as the gateway: the embed variant alone is framable
                response.headers.setdefault(name, value)
        return response(environ, start_response)

    def static(self, request, filename):
        target = (STATIC / filename).resolve()
        if STATIC not in target.parents or not target.is_file():
            raise HttpNotFound()
        kind = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}.get(target.suffix, "application/octet-stream")
        return Response(target.read_bytes(), mimetype=kind, headers={"Cache-Control": "public, max-age=3600"})

    def _json(self, body):
        return Response(json.dumps(body), mimetype="application/json", headers={"Cache-Control": "public, max-age=60"})

    def api_map(self, request):
        return self._json(self.answers.answer(self.backend, "map_features", _args(request), dataviz.map_features))

    def api_countries(self, request):
        return self._json(self.answers.answer(self.backend, "map_countries", _args(request), dataviz.country_counts))

    def api_network(self, request):
        return self._json(self.answers.answer(self.backend, "network", _args(request), dataviz.network))

    def api_groupings(self, request):
        return self._json(self.answers.answer(self.backend, "groupings", _args(request), dataviz.groupings))

    def api_search(self, request):
        return self._json(self.engine.query(parse_params(_args(request))))

    def _page(self, request, view, template, **data):
        chosen = dataviz_views.selection(request.args)
        countries = self.answers.answer(self.backend, "map_countries", dataviz_views.service_params(chosen),
                                        dataviz.country_counts)
        site = request.host_url.rstrip("/")
        raw = request.query_string.decode("latin-1")
        builder = getattr(dataviz_views, f"{view}_page")
        context = builder("en", request.args, raw, site, countries, **data)
        return render(template, headers=dataviz_views.frame_policy(context["embed"]), request=request, **context)

    def map_page(self, request):
        return self._page(request, "map", "map/map.html")

    def network_page(self, request):
        return self._page(request, "network", "map/network.html", graph=self._answer(request, "network"))

    def groupings_page(self, request):
        return self._page(request, "groupings", "map/groupings.html", answer=self._answer(request, "groupings"))

    def _answer(self, request, view: str):
        chosen = dataviz_views.selection(request.args)
        params = dataviz_views.service_params(chosen, **dataviz_views.view_options(request.args, view))
        return self.answers.answer(self.backend, view, params, getattr(dataviz, view))


def serve(engine: SearchEngine, port: int = 0):
    """Serve in a thread; returns (base URL, server)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", port, Site(engine), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=0, help="generated records instead of the real export")
    parser.add_argument("--port", type=int, default=8765)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dsi-dataviz-"))
    engine = generated_index(folder, options.generated) if options.generated else real_index(folder)
    base, server = serve(engine, options.port)
    print(f"serving {base}/map", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
