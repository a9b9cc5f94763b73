"""The embedded index folder across versions of the platform: an index written with another schema is not an
error at start-up but a reason to build anew from the directory."""
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

