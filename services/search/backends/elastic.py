"""The Elasticsearch backend: one shared index behind an alias, written by one pool of workers.

- An index template gives every `<alias>-*` index the folding analyzer and the mapping, so a rebuild creates
  a concrete index `<alias>-<n>`, bulk-loads it, and moves the alias to it in one atomic `update_aliases`.
- Versions are Elasticsearch's external versions: a write with a version not above the stored one is refused
  by the server (409), which makes redelivered and out-of-order events harmless, and tombstones keep it.
- While a rebuild runs, each write goes to every `<alias>-*` index, so the new one misses nothing.
"""
import time
from typing import Iterable

from elasticsearch import ConflictError, Elasticsearch, NotFoundError
from elasticsearch.helpers import scan, streaming_bulk

from ..models import FACETS
from .. import tiles
from .base import FIELDS, Find, Found, Grid

FACET_SIZE = 300
# records(brief=True): what a network draws of a record
BRIEF_SOURCE = ["id", "item.id", "item.kind", "item.name", "item.country", "links.id", "links.role"]
# A word is a run of letters and digits, lower-cased and folded: the same words as text.analyzer().
ANALYSIS = {
    "tokenizer": {"words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
    "filter": {"short_words": {"type": "length", "max": 40}},
    "analyzer": {"folded": {"type": "custom", "tokenizer": "words",
                            "filter": ["short_words", "lowercase", "asciifolding"]}},
}
MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "version": {"type": "long"},
        "live": {"type": "boolean"},
        **{name: {"type": "text", "analyzer": "folded"} for name in FIELDS},
        "facets": {"properties": {name: {"type": "keyword"} for name in FACETS}},
        "name_sort": {"type": "keyword"},
        "newest": {"type": "long"},
        "location": {"type": "geo_point"},
        "item": {"type": "object", "enabled": False},  # shown, never searched
        "links": {"type": "object", "enabled": False},  # the map's panel and the network
        "linked": {"type": "long"},  # the ids its links name
        "start_year": {"type": "integer"},
    },
}


class ElasticBackend:
    name = "elasticsearch"

    def __init__(self, url: str, alias: str):
        self.client = Elasticsearch(url, request_timeout=30)
        self.alias = alias
        self.client.indices.put_index_template(
            name=f"{alias}-template", index_patterns=[f"{alias}-*"],
            template={"settings": {"number_of_shards": 1, "analysis": ANALYSIS}, "mappings": MAPPINGS},
        )
        # an index made by an older version gains the fields added since (a facet such as `cluster`): adding
        # fields to a mapping is allowed, and the strict mapping would otherwise refuse the new documents
        for index in self._indices():
            self.client.indices.put_mapping(index=index, properties=MAPPINGS["properties"])

    # --- writing -----------------------------------------------------------------------------------------------

    def upsert(self, document: dict) -> bool:
        applied = False
        for index in self._indices() or [self._create_index(alias=True)]:
            try:
                self.client.index(index=index, id=str(document["id"]), document=_source(document),
                                  version=document["version"], version_type="external", refresh=True)
                applied = True
            except ConflictError:  # the index holds this version or a newer one
                pass
        return applied

    def rebuild(self, documents: Iterable[dict]) -> int:
        old = self._indices()  # the live one, and any left by a rebuild that crashed
        live = self._aliased()
        new = self._create_index(alias=False)
        actions = ({"_op_type": "index", "_index": new, "_id": str(document["id"]), "version": document["version"],
                    "version_type": "external", "_source": _source(document)} for document in documents)
        try:
            for ok, result in streaming_bulk(self.client, actions, chunk_size=500, raise_on_error=False,
                                             raise_on_exception=True):
                if not ok and result["index"].get("status") != 409:  # 409: an event wrote a newer version first
                    raise RuntimeError(f"bulk indexing failed: {result}")
            self.client.indices.refresh(index=new)
            self.client.indices.update_aliases(actions=[  # one atomic step: searches see one index or the other
                *({"remove": {"index": index, "alias": self.alias}} for index in live),
                {"add": {"index": new, "alias": self.alias}},
            ])
        except BaseException:
            self.client.indices.delete(index=new, ignore_unavailable=True)
            raise
        for index in old:
            self.client.indices.delete(index=index, ignore_unavailable=True)
        return self.client.count(index=self.alias, query={"term": {"live": True}})["count"]

    def _indices(self) -> list[str]:
        """Every concrete index of ours: the live one and, during a rebuild, the one being built."""
        return sorted(self.client.indices.get(index=f"{self.alias}-*", allow_no_indices=True, expand_wildcards="open"))

    def _aliased(self) -> list[str]:
        """The index the alias points to (none before the first build)."""
        try:
            return list(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def _create_index(self, alias: bool) -> str:
        name = f"{self.alias}-{time.time_ns()}"
        self.client.indices.create(index=name, aliases={self.alias: {}} if alias else None)
        return name

    # --- reading -----------------------------------------------------------------------------------------------

    def needs_build(self) -> bool:
        return not self.client.indices.exists_alias(name=self.alias)

    def live_versions(self) -> dict[int, int]:
        if self.needs_build():
            return {}
        hits = scan(self.client, index=self.alias, query={"query": {"term": {"live": True}}},
                    _source=["id", "version"])
        return {hit["_source"]["id"]: hit["_source"]["version"] for hit in hits}

    def together(self, work):
        return work()  # its searches are HTTP requests on green sockets: they run on the event loop

    def find(self, find: Find) -> Found:
        selected = {facet: {"terms": {f"facets.{facet}": values}} for facet, values in find.filters.items()}
        query = {"bool": {"must": _text_query(find), "filter": [{"term": {"live": True}}, *_bbox(find.bbox)]}}
        aggregations = {
            facet: {"filter": {"bool": {"filter": [clause for name, clause in selected.items() if name != facet]}},
                    "aggs": {"values": {"terms": {"field": f"facets.{facet}", "size": FACET_SIZE}}}}
            for facet in find.facets
        }
        if find.sort == "newest":
            sort = [{"newest": "desc"}]
        elif find.sort == "name" or not find.terms:
            sort = [{"name_sort": "asc"}]
        else:
            sort = ["_score", {"name_sort": "asc"}]  # the name breaks ties: pages never overlap
        try:
            answer = self.client.search(
                index=self.alias, query=query, post_filter={"bool": {"filter": list(selected.values())}},
                aggregations=aggregations or None, sort=sort, from_=find.offset, size=find.limit,
                track_total_hits=True, source=["id", "name", "description", "item"],
            )
        except NotFoundError:  # no index yet
            return Found(0, [], {})
        hits = [{"id": hit["_source"]["id"], "name": hit["_source"]["name"],
                 "description": hit["_source"].get("description", ""), "item": hit["_source"]["item"]}
                for hit in answer["hits"]["hits"]]
        facets = {facet: {bucket["key"]: bucket["doc_count"] for bucket in result["values"]["buckets"]}
                  for facet, result in (answer.get("aggregations") or {}).items()}
        return Found(answer["hits"]["total"]["value"], hits, facets)

    # --- the map, the network and the groupings (as the embedded backend; see dataviz.py) -----------------------

    def _filter(self, find: Find) -> dict:
        selected = [{"terms": {f"facets.{facet}": values}} for facet, values in find.filters.items()]
        return {"bool": {"must": _text_query(find),
                         "filter": [{"term": {"live": True}}, *_bbox(find.bbox), *selected]}}

    def grid(self, find: Find, level: int, limit: int) -> Grid:
        query = self._filter(find)
        query["bool"]["filter"].append({"exists": {"field": "location"}})
        answer = self.client.search(index=self.alias, query=query, size=0, aggregations={"cells": {
            "geotile_grid": {"field": "location", "precision": min(level, 29), "size": limit},
            "aggs": {"centre": {"geo_centroid": {"field": "location"}}, "bounds": {"geo_bounds": {"field": "location"}},
                     "first": {"min": {"field": "id"}}},
        }}, track_total_hits=True)
        buckets = answer["aggregations"]["cells"]["buckets"]
        cells = []
        for bucket in buckets:
            bounds = bucket["bounds"]["bounds"]
            cells.append({"count": bucket["doc_count"], "latitude": bucket["centre"]["location"]["lat"],
                          "longitude": bucket["centre"]["location"]["lon"], "id": int(bucket["first"]["value"]),
                          "co_located": tiles.position_key(bounds["top_left"]["lat"], bounds["top_left"]["lon"]) ==
                          tiles.position_key(bounds["bottom_right"]["lat"], bounds["bottom_right"]["lon"])})
        single = [cell["id"] for cell in cells if cell["count"] == 1]
        records = self.records(single) if single else {}
        for cell in cells:
            cell["record"] = records.get(cell["id"]) if cell["count"] == 1 else None
        placed = answer["hits"]["total"]["value"]
        return Grid(cells, placed, sum(cell["count"] for cell in cells) < placed)

    def records(self, ids: list[int], find: Find | None = None, limit: int | None = None,
                naming: bool = False, brief: bool = False) -> dict[int, dict]:
        if naming:
            query = {"bool": {"filter": [{"term": {"live": True}}, {"terms": {"linked": list(ids)}}]}}
        elif find is None:
            query, limit = {"bool": {"filter": [{"term": {"live": True}}, {"terms": {"id": list(ids)}}]}}, len(ids)
        else:
            query = self._filter(find)
        if not limit:
            return {}
        source = BRIEF_SOURCE if brief else ["id", "item", "links"]
        answer = self.client.search(index=self.alias, query=query, size=limit, sort=[{"id": "asc"}], source=source)
        return {hit["_source"]["id"]: {"item": hit["_source"]["item"], "links": hit["_source"].get("links") or []}
                for hit in answer["hits"]["hits"]}

    def revision(self):
        return None  # other instances write the shared index: no local answer can be known to be current

    def count(self, find: Find) -> int:
        return self.client.count(index=self.alias, query=self._filter(find))["count"]

    def groups(self, find: Find, by: str, then: str | None, size: int) -> dict:
        def field(name):
            return name if name == "start_year" else f"facets.{name}"
        terms = {"terms": {"field": field(by), "size": size}}
        if then:
            terms["aggs"] = {"then": {"terms": {"field": field(then), "size": size}}}
        answer = self.client.search(index=self.alias, query=self._filter(find), size=0,
                                    aggregations={"groups": terms})
        return {bucket["key"]: {
            "count": bucket["doc_count"],
            "then": {inner["key"]: inner["doc_count"] for inner in bucket["then"]["buckets"]} if then else None,
        } for bucket in answer["aggregations"]["groups"]["buckets"]}

    def drop(self) -> None:
        """Remove our indices and template (tests)."""
        for index in self._indices():
            self.client.indices.delete(index=index, ignore_unavailable=True)
        self.client.indices.delete_index_template(name=f"{self.alias}-template")

    def close(self) -> None:
        self.client.close()


def _source(document: dict) -> dict:
    if not document["live"]:
        return {"id": document["id"], "version": document["version"], "live": False}
    source = {key: document[key] for key in ("id", "version", "live", *FIELDS, "facets", "name_sort", "newest",
                                              "item")}
    source.update(links=document.get("links") or [], start_year=document.get("start_year"),
                  linked=[link["id"] for link in document.get("links") or []])
    if document["latitude"] is not None and document["longitude"] is not None:
        source["location"] = {"lat": document["latitude"], "lon": document["longitude"]}
    return source


def _bbox(bbox) -> list[dict]:
    if bbox is None:
        return []
    # a box across the antimeridian is two boxes, as in the embedded backend
    boxes = [{"geo_bounding_box": {"location": {"top_left": {"lat": bbox.max_lat, "lon": west},
                                                "bottom_right": {"lat": bbox.min_lat, "lon": east}}}}
             for west, east in bbox.lon_ranges]
    return boxes if len(boxes) == 1 else [{"bool": {"should": boxes, "minimum_should_match": 1}}]


def _text_query(find: Find) -> list[dict]:
    """As the embedded backend: every word must match some field exactly (BM25), within its typo budget, or
    as the prefix being typed."""
    words = []
    for term, budget, prefix in find.terms:
        alternatives = []
        for name in find.fields:
            weight = FIELDS[name]
            alternatives.append({"term": {name: {"value": term, "boost": 2 * weight}}})
            if budget:
                alternatives.append({"fuzzy": {name: {"value": term, "fuzziness": budget, "transpositions": True,
                                                      "prefix_length": 0, "boost": weight}}})
            if prefix:
                alternatives.append({"prefix": {name: {"value": term, "boost": weight}}})
        words.append({"bool": {"should": alternatives, "minimum_should_match": 1}})
    return words
