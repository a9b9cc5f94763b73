"""The embedded index folder across versions of the platform: an index written with another schema is not an
error at start-up but a reason to build anew from the directory."""
import eventlet
import tantivy

from services.search.backends.embedded import EmbeddedBackend


def test_an_index_with_an_older_schema_is_rebuilt_not_fatal(tmp_path):
    (tmp_path / "gen-1").mkdir()
    old = tantivy.SchemaBuilder().add_text_field("title", stored=True).build()
    writer = tantivy.Index(old, path=str(tmp_path / "gen-1")).writer(15_000_000, 1)
    writer.add_document(tantivy.Document(title="written by an older version"))
    writer.commit()
    (tmp_path / "CURRENT").write_text("gen-1")

    backend = EmbeddedBackend(tmp_path)
    try:
        assert backend.needs_build()
        assert not (tmp_path / "CURRENT").exists()
        assert backend.live_versions() == {}
    finally:
        backend.close()



def test_a_search_leaves_the_services_other_greenthreads_running(tmp_path, make_record):
    """Searches run on an OS thread (tantivy releases the GIL): while one works, the process goes on answering.
    Here the search itself waits for a greenthread; run on the eventlet hub, it would wait in vain."""
    from services.search.engine import SearchEngine
    from services.search.models import document
    from services.search.schemas import parse_params

    os_threading = eventlet.patcher.original("threading")
    other_ran = os_threading.Event()

    class Waiting(EmbeddedBackend):
        def _find(self, find):
            assert other_ran.wait(timeout=10), "the service's other greenthreads stood still during a search"
            return super()._find(find)

    backend = Waiting(tmp_path)
    try:
        backend.upsert(document(make_record(1, "Waag Society")))
        eventlet.spawn(other_ran.set)
        assert SearchEngine(backend).query(parse_params({"q": "waag"}))["total"] == 1
    finally:
        backend.close()


def test_counting_over_all_text_finds_what_the_ranked_search_finds(tmp_path, make_record):
    """Facets and counts match a query's words against every field's words together (one automaton per word);
    the ranked search asks each field. Both find the same documents, whichever field a word is in."""
    from services.search.backends import Find
    from services.search.backends.embedded import _count, _filtered, _matching, _text_query
    from services.search.models import document
    from services.search.text import Terms

    backend = EmbeddedBackend(tmp_path)
    try:
        for record in [
            make_record(1, "Waag Society", short_description="Open democracy in Amsterdam."),
            make_record(2, "Decidim", short_description="Participatory democracy software.", city="Barcelona"),
            make_record(3, "Fundació Barceló", short_description="Cultura i cooperació."),
            make_record(4, "Care Map", kind="project", short_description="Mapping care.", tags=["health"]),
        ]:
            backend.upsert(document(record))
        searcher = backend._live.index.searcher()
        for q in ["democracy", "democrazy", "demo", "barcelona", "barcelo", "health", "care map", "open amst",
                  "cooperacio", "map", "zyzzyva", "dem soc"]:
            find = Find(terms=Terms(q))
            ranked = searcher.search(_matching(_text_query(find)), 10, True).count
            assert _count(searcher, _filtered(find)) == ranked, q
            assert backend.find(Find(terms=Terms(q), facets=("kind",))).total == ranked, q
    finally:
        backend.close()


def test_the_searches_of_one_query_take_one_hop_off_the_event_loop(tmp_path, make_record):
    """A query with no hits makes several searches ("did you mean"): all run on one OS thread, reached once."""
    from services.search.engine import SearchEngine
    from services.search.models import document
    from services.search.schemas import parse_params

    os_thread = eventlet.patcher.original("_thread")
    threads = []

    class Recording(EmbeddedBackend):
        def _find(self, find):
            threads.append(os_thread.get_ident())
            return super()._find(find)

    backend = Recording(tmp_path)
    try:
        backend.upsert(document(make_record(1, "Waag Society", short_description="Open democracy in Amsterdam.")))
        answer = SearchEngine(backend).query(parse_params({"q": "opun demo"}))
        assert answer["total"] == 0 and answer["did_you_mean"] == "open demo"
        assert len(threads) > 2 and len(set(threads)) == 1 and threads[0] != os_thread.get_ident()
        assert SearchEngine(backend).query(parse_params({"q": "democrazy"}))["total"] == 1  # a later one hops anew
        assert threads[-1] != os_thread.get_ident()
    finally:
        backend.close()
