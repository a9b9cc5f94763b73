"""Index backends behind one interface, chosen by config (SEARCH_BACKEND).

A backend stores documents (see models.py) and answers `Find` requests; everything a person sees (snippets,
labels, "did you mean") is built from its answers by engine.py, the same for every backend.
"""
from .base import FIELDS, Backend, Find, Found, Grid  # noqa: F401 (the interface, importable from here)


def make_backend(config: dict, instance_dir=None) -> Backend:
    kind = config.get("SEARCH_BACKEND", "embedded")
    if kind == "embedded":
        from .embedded import EmbeddedBackend
        return EmbeddedBackend(instance_dir)
    if kind == "elasticsearch":
        from .elastic import ElasticBackend
        return ElasticBackend(config["ELASTICSEARCH_URL"], config.get("ELASTICSEARCH_INDEX", "dsi-search"))
    raise ValueError(f"SEARCH_BACKEND must be embedded or elasticsearch, not {kind!r}")
