"""The embedded backend: a tantivy index in the instance's own folder (no server; see docs/search.md for why
tantivy rather than SQLite FTS5).

Layout of an instance folder: `CURRENT` names the live generation, `gen-<n>/` holds a tantivy index. A rebuild
writes a new generation beside the live one and swaps `CURRENT` atomically, so searches never stop.
"""
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Iterable

from tantivy import Document, FieldType, Index, Occur, Order, Query, SchemaBuilder

from dsi import fastjson
from dsi.threads import off_the_loop

from .. import tiles
from ..models import FACETS, sort_key
from ..text import ANALYZER_NAME, analyzer
from .base import FIELDS, Find, Found, Grid

log = logging.getLogger(__name__)

WRITER_HEAP = 64_000_000
FACET_SIZE = 300  # more values than any facet has (countries: 250)
FACET_VALUES = "facet_values"
MAX_TIES = 2_000  # documents whose names are alike in their first 12 letters, put in full order per page
# The map's grid: a record's tile at every zoom, and its position to the metre (see tiles.py). Indexed as well
# as fast: the records alone in their cell are found by their cell's key.
CELL_FIELDS = tuple(f"cell_{level}" for level in range(tiles.MAX_LEVEL + 1))
POSITION = "position"
BRIEF = "brief"  # what the network draws of a record, small to read: kind, name, country, links' ids and roles
# The same as two columns, so that a network of thousands of records is read by one aggregation instead of a
# stored document each: "<id, 12 digits>\t<kind>\t<country>\t<name>" and "<id>\t<linked id>\t<role>" per link
# (ids zero-padded: the terms' order is the ids' order).
NODE, EDGES = "node", "edges"
# Every full-text field's words again in one field, for matching without ranking (facets, counts, the map): one
# fuzzy word is one automaton and one walk of one term dictionary there, not one per field (a word's typo
# automaton costs 30–150 µs to build). A word matches this field exactly when it matches one of the fields.
ALL_TEXT = "all_text"
MAX_COLUMN_TERMS = 60_000  # below tantivy's bucket limit; a network with more links reads the stored documents


def _schema():
    builder = SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_integer_field("version", stored=True)
    builder.add_boolean_field("live", indexed=True)
    for name in FIELDS:
        builder.add_text_field(name, stored=name != "extra", tokenizer_name=ANALYZER_NAME)
    builder.add_text_field(ALL_TEXT, tokenizer_name=ANALYZER_NAME, index_option="basic")  # which documents only
    for name in FACETS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw")
    # every facet value again as "facet:value" in one column: one terms aggregation counts all facets at once,
    # near twice as fast as one per facet
    builder.add_text_field(FACET_VALUES, fast=True, tokenizer_name="raw")
    builder.add_integer_field("name_sort", fast=True)
    builder.add_integer_field("newest", fast=True)
    builder.add_float_field("latitude", indexed=True, fast=True)
    builder.add_float_field("longitude", indexed=True, fast=True)
    builder.add_bytes_field("item", stored=True)
    for name in (*CELL_FIELDS, POSITION):
        builder.add_integer_field(name, fast=True, indexed=True)
    builder.add_integer_field("start_year", indexed=True, fast=True)
    builder.add_bytes_field("links", stored=True)
    builder.add_bytes_field(BRIEF, stored=True)
    builder.add_text_field(NODE, fast=True, tokenizer_name="raw")
    builder.add_text_field(EDGES, fast=True, tokenizer_name="raw")
    builder.add_integer_field("linked", indexed=True)  # the ids its links name: who names a record, both ways
    return builder.build()


SCHEMA = _schema()


def _tantivy_document(document: dict) -> Document:
    doc = Document()
    doc.add_integer("id", document["id"])
    doc.add_integer("version", document["version"])
    doc.add_boolean("live", document["live"])
    if not document["live"]:
        return doc
    for name in FIELDS:
        doc.add_text(name, document[name])
        doc.add_text(ALL_TEXT, document[name])
    for name in FACETS:
        for value in document["facets"][name]:
            doc.add_text(name, value)
            doc.add_text(FACET_VALUES, f"{name}:{value}")
    doc.add_integer("name_sort", name_rank(document["name_sort"]))
    doc.add_integer("newest", document["newest"])
    if document["latitude"] is not None and document["longitude"] is not None:
        latitude, longitude = float(document["latitude"]), float(document["longitude"])
        doc.add_float("latitude", latitude)
        doc.add_float("longitude", longitude)
        for level, name in enumerate(CELL_FIELDS):
            doc.add_integer(name, tiles.tile_key(latitude, longitude, level))
        doc.add_integer(POSITION, tiles.position_key(latitude, longitude))
    if document.get("start_year") is not None:
        doc.add_integer("start_year", document["start_year"])
    doc.add_bytes("item", fastjson.dumps(document["item"]))
    doc.add_bytes("links", fastjson.dumps(document.get("links") or []))
    summary = brief(document)
    doc.add_bytes(BRIEF, fastjson.dumps(summary))
    item = summary["item"]
    doc.add_text(NODE, f"{item['id']:012d}\t{item['kind']}\t{item['country'] or ''}\t{item['name']}")
    for link in summary["links"]:
        doc.add_text(EDGES, f"{item['id']:012d}\t{link['id']}\t{link['role'] or ''}")
    for link in document.get("links") or []:
        doc.add_integer("linked", int(link["id"]))
    return doc


def brief(document: dict) -> dict:
    """A record as records(brief=True) answers it: what a network needs, a tenth of the item to decode."""
    item = document["item"]
    return {"item": {"id": item["id"], "kind": item["kind"], "name": item["name"], "country": item.get("country")},
            "links": [{"id": link["id"], "role": link.get("role")} for link in document.get("links") or []]}


_SORT_ALPHABET = {char: code for code, char in enumerate(" 0123456789abcdefghijklmnopqrstuvwxyz")}
_SORT_CHARS = 12  # 37**12 < 2**63


def name_rank(sort_key: str) -> int:
    """The name order as a number: tantivy orders by string fast fields per segment only, by numbers globally.
    Names alike in their first 12 letters tie, and ties keep the index's own order."""
    rank = 0
    for char in sort_key.split("\x00")[0][:_SORT_CHARS].ljust(_SORT_CHARS):
        rank = rank * 37 + _SORT_ALPHABET.get(char, 0)
    return rank


class _Generation:
    """One tantivy index with its writer, and the version of every document it holds (tombstones too)."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.index = Index(SCHEMA, path=str(path), reuse=True)
        self.index.register_tokenizer(ANALYZER_NAME, analyzer())
        self.index.config_reader("manual")  # reloaded right after each commit: searchable at once
        self.writer = self.index.writer(WRITER_HEAP, 1)
        self.versions: dict[int, tuple[int, bool]] = self._scan()
        self.puts = self.committed = 0  # documents put, and how many of them a commit made searchable

    def _scan(self) -> dict[int, tuple[int, bool]]:
        searcher = self.index.searcher()
        versions = {}
        if searcher.num_docs:
            for _score, address in searcher.search(Query.all_query(), searcher.num_docs, count=False).hits:
                doc = searcher.doc(address)
                live = doc.get_first("item") is not None
                versions[doc.get_first("id")] = (doc.get_first("version"), live)
        return versions

    def put(self, document: dict) -> bool:
        held = self.versions.get(document["id"])
        if held and held[0] >= document["version"]:
            return False
        self.writer.delete_documents_by_term("id", document["id"])
        self.writer.add_document(_tantivy_document(document))
        self.versions[document["id"]] = (document["version"], document["live"])
        self.puts += 1
        return True

    def commit(self) -> None:
        target = self.puts
        off_the_loop(self.writer.commit)  # mostly fsync (30–150 ms on a busy disk): searches go on meanwhile
        self.index.reload()
        self.committed = target

    def close(self) -> None:
        self.writer.wait_merging_threads()  # consumes the writer and releases its lock


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, folder):
        self.root = Path(folder)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._commit_lock = threading.Lock()
        current = self.root / "CURRENT"
        self.built = current.exists()
        generation = current.read_text().strip() if self.built else self._new_generation_name()
        try:
            self._live = _Generation(self.root / generation)
        except ValueError as error:  # written by an older version with another schema: build anew from the directory
            if "schema does not match" not in str(error):
                raise
            log.warning("search index %s has an older layout: it will be rebuilt", generation)
            current.unlink(missing_ok=True)
            self.built = False
            self._live = _Generation(self.root / self._new_generation_name())
        self._building: _Generation | None = None
        self._remove_stale_generations()

    # --- writing -----------------------------------------------------------------------------------------------

    def upsert(self, document: dict) -> bool:
        with self._lock:
            if self._building is not None:  # a rebuild in progress must not miss what happens meanwhile
                self._building.put(document)
            live = self._live
            if not live.put(document):
                return False
            ticket = live.puts
        self._commit_through(live, ticket)
        return True

    def _commit_through(self, generation: _Generation, ticket: int) -> None:
        """Group commit: events that arrive while a commit runs are put meanwhile and share the next one, so a
        burst of events costs a few commits, not one each. Returns once `ticket` is searchable and durable."""
        with self._commit_lock:
            if generation.committed >= ticket or generation is not self._live:  # done, or swapped in committed
                return
            with self._lock:  # the writer takes no document while it commits
                generation.commit()

    def rebuild(self, documents: Iterable[dict]) -> int:
        with self._lock:
            building = self._building = _Generation(self.root / self._new_generation_name())
        try:
            for document in documents:  # the source yields between pages: upserts and searches go on meanwhile
                with self._lock:
                    building.put(document)
            with self._lock:
                building.commit()
                old, self._live, self._building = self._live, building, None
                self._point_to(building)
        except BaseException:
            with self._lock:
                self._building = None
            building.close()
            shutil.rmtree(building.path, ignore_errors=True)
            raise
        old.close()
        shutil.rmtree(old.path, ignore_errors=True)  # open searchers keep their files until they finish
        return sum(1 for _version, live in building.versions.values() if live)

    def _point_to(self, generation: _Generation) -> None:
        temporary = self.root / "CURRENT.new"
        temporary.write_text(generation.path.name)
        os.replace(temporary, self.root / "CURRENT")
        self.built = True

    def _new_generation_name(self) -> str:
        return f"gen-{time.time_ns()}"

    def _remove_stale_generations(self) -> None:
        """Folders of rebuilds that a crash interrupted."""
        for path in self.root.glob("gen-*"):
            if path.name != self._live.path.name:
                shutil.rmtree(path, ignore_errors=True)

    # --- reading -----------------------------------------------------------------------------------------------

    def live_versions(self) -> dict[int, int]:
        return {id_: version for id_, (version, live) in self._live.versions.items() if live}

    def needs_build(self) -> bool:
        return not self.built

    def revision(self):
        """Changes whenever what searches see changes (a commit, a rebuild): answers keyed by it stay right."""
        generation = self._live
        return generation.path.name, generation.committed

    def together(self, work):
        """`work`'s searches on one OS thread, one hop from the event loop for all of them."""
        return off_the_loop(work)

    def find(self, find: Find) -> Found:
        # on an OS thread: tantivy releases the GIL, so the service's other requests go on meanwhile, on the
        # other cores (run on the hub, every search stalled every other one: the service answered one at a time)
        return off_the_loop(lambda: self._find(find))

    def _find(self, find: Find) -> Found:
        generation = self._live
        searcher = generation.index.searcher()
        selected = {facet: _any_of(facet, values) for facet, values in find.filters.items()}
        # the facets on this same thread, not on a thread of their own alongside: that costs a thread's start and the
        # GIL's hand-overs, a third more CPU for a request a little shorter
        facets = lambda total, shared=None: self._facets(searcher, find, selected, total, shared) if find.facets else {}
        if not find.limit:  # counts only (the map's countries, "did you mean"): no page to rank, no ranked query
            total = _count(searcher, _filtered(find))
            return Found(total, [], facets(total))
        # the facets' shared pass runs first: when it finds nothing (a typo, often), the ranked search, which costs
        # twice as much (a typo automaton per word and field), need not run
        plain = _plain(find, selected)
        shared = _all_terms(searcher, _filtered(find), plain) if len(plain) > 1 else None
        if shared and not shared[0]:
            return Found(0, [], facets(0))
        # no `live` clause beside words, a box or a facet (see _matching): its posting list of every document cost
        # a third of a search over many matches, and its score is the same for all
        query = _matching(_text_query(find), *_bbox(find.bbox), *selected.values())
        limit = find.limit
        if find.sort == "name" or (find.sort == "relevance" and not find.terms):
            result = searcher.search(query, limit, True, "name_sort", find.offset, Order.Asc)
            page = [searcher.doc(address) for _, address in result.hits]
            matching = _matching(_text_query(find, scored=False), *_bbox(find.bbox), *selected.values())
            docs = _in_name_order(searcher, matching, find, page)
        else:
            if find.sort == "newest":
                result = searcher.search(query, limit, True, "newest", find.offset, Order.Desc)
            else:
                result = searcher.search(query, limit, True, None, find.offset)
            docs = [searcher.doc(address) for _score, address in result.hits]
        hits = [{
            "id": doc.get_first("id"),
            "name": doc.get_first("name"),
            "description": doc.get_first("description") or "",
            "item": fastjson.loads(doc.get_first("item")),
        } for doc in docs[:find.limit]]
        return Found(result.count, hits, facets(result.count, shared))

    def _facets(self, searcher, find: Find, selected: dict, total: int,
                shared: tuple[bool, dict] | None = None) -> dict[str, dict[str, int]]:
        """Each facet's counts over the `total` matches, a selected facet's over the matches of the others
        (`shared`: the facets' shared pass, run already)."""
        counts = {}
        # facets without a selection share one pass over the matches (none when nothing matched: all at zero, as a
        # facet without counts shows); each selected one needs its own
        plain = _plain(find, selected) if total else []
        if len(plain) > 1:
            counts.update((shared or _all_terms(searcher, _filtered(find), plain))[1])
        elif plain:
            counts.update(_terms(searcher, _filtered(find), plain))
        text = _text_query(find, scored=False) if selected else None
        for facet in find.facets:
            if facet in selected:
                others = [clause for name, clause in selected.items() if name != facet]
                counts.update(_terms(searcher, _matching(text, *_bbox(find.bbox), *others), [facet]))
        return counts

    # --- the map, the network and the groupings (see dataviz.py) ------------------------------------------------

    def grid(self, find: Find, level: int, limit: int) -> Grid:
        """The matching records with a position, counted per tile at `level` (per position beyond the finest
        tiles): the `limit` fullest cells with their centre of mass, and the record of each cell of one.
        Two sub-aggregations (stats of latitude and longitude: the centre, and whether the cell is one place) are
        most of the cost; a cell of one record is found afterwards by its key, not by a third per record."""
        searcher = self._live.index.searcher()
        filtered = _filtered(find)
        query = _all(filtered, *_placed(find.bbox))
        field = CELL_FIELDS[level] if level < len(CELL_FIELDS) else POSITION
        answer = searcher.aggregate(query, {"cells": {
            "terms": {"field": field, "size": limit},
            "aggs": {"latitude": {"stats": {"field": "latitude"}}, "longitude": {"stats": {"field": "longitude"}}},
        }})["cells"]
        cells, single = [], []
        for bucket in answer["buckets"]:
            latitude, longitude = bucket["latitude"], bucket["longitude"]
            cell = {"count": bucket["doc_count"], "latitude": latitude["avg"], "longitude": longitude["avg"],
                    # one place: every record rounds to one position (rounding keeps order, so min and max decide)
                    "co_located": tiles.position_key(latitude["min"], longitude["min"]) ==
                    tiles.position_key(latitude["max"], longitude["max"]), "id": None, "record": None}
            cells.append(cell)
            if cell["count"] == 1:
                single.append(int(bucket["key"]))
        if single:
            by_key = self._alone(searcher, filtered, level, single)
            for cell, key in zip((cell for cell in cells if cell["count"] == 1), single):
                cell["record"] = by_key.get(key)
                cell["id"] = cell["record"]["item"]["id"] if cell["record"] else None
        others = answer.get("sum_other_doc_count", 0)
        return Grid(cells, sum(cell["count"] for cell in cells) + others, others > 0)

    def _alone(self, searcher, filtered, level: int, keys: list[int]) -> dict[int, dict]:
        """Cell key → the one matching record in each of these cells (each holds exactly one)."""
        field = CELL_FIELDS[level] if level < len(CELL_FIELDS) else POSITION
        query = _all(filtered, Query.term_set_query(SCHEMA, field, keys))
        result = searcher.search(query, len(keys), False, "id", 0, Order.Asc)
        found = {}
        for _, address in result.hits:
            record = _record(searcher.doc(address))
            found[_cell_key(record["item"], level)] = record
        return found

    def records(self, ids: list[int], find: Find | None = None, limit: int | None = None,
                naming: bool = False, brief: bool = False) -> dict[int, dict]:
        """Id → {"item", "links"} of live records: those of `ids` (with `naming`: those whose links name one of
        `ids`, at most `limit`), or the first `limit` matching `find` by id. `brief`: the item holds only id,
        kind, name and country, and each link only its id and role (what a network draws)."""
        searcher = self._live.index.searcher()
        if naming:
            query = _all(_live(), Query.term_set_query(SCHEMA, "linked", list(ids)))
        elif find is None:
            query, limit = _all(_live(), Query.term_set_query(SCHEMA, "id", list(ids))), len(ids)
        else:
            query = _filtered(find)
        if not limit:
            return {}
        result = searcher.search(query, limit, False, "id", 0, Order.Asc)
        if brief and find is not None and not naming and result.hits:
            columns = _from_columns(searcher, query, searcher.doc(result.hits[-1][1]).get_first("id"), len(result.hits))
            if columns is not None:
                return columns
        found = {}
        for _, address in result.hits:
            doc = searcher.doc(address)
            found[doc.get_first("id")] = fastjson.loads(doc.get_first(BRIEF)) if brief else _record(doc)
        return found

    def count(self, find: Find) -> int:
        return _count(self._live.index.searcher(), _filtered(find))

    def groups(self, find: Find, by: str, then: str | None, size: int) -> dict:
        """Matching records per value of `by` (a facet or "start_year"), and per value of `then` within each."""
        searcher = self._live.index.searcher()
        terms = {"terms": {"field": by, "size": size}}
        if then:
            terms["aggs"] = {"then": {"terms": {"field": then, "size": size}}}
        answer = searcher.aggregate(_filtered(find), {"groups": terms})["groups"]
        return {_key(bucket["key"]): {
            "count": bucket["doc_count"],
            "then": {_key(inner["key"]): inner["doc_count"] for inner in bucket["then"]["buckets"]} if then else None,
        } for bucket in answer["buckets"]}

    def close(self) -> None:
        with self._lock:
            self._live.close()


def _from_columns(searcher, query, last_id: int, size: int) -> dict[int, dict] | None:
    """records(brief=True) of the matching records up to `last_id` (the first `size` by id), read from the node
    and edges columns by one aggregation; None when the links are too many for it."""
    upto = _all(query, Query.range_query(SCHEMA, "id", FieldType.Integer, 0, last_id))
    answer = searcher.aggregate(upto, {
        NODE: {"terms": {"field": NODE, "size": size, "order": {"_key": "asc"}}},
        EDGES: {"terms": {"field": EDGES, "size": MAX_COLUMN_TERMS, "order": {"_key": "asc"}}}})
    if answer[EDGES].get("sum_other_doc_count") or answer[NODE].get("sum_other_doc_count"):
        return None
    found = {}
    for bucket in answer[NODE]["buckets"]:
        record_id, kind, country, name = bucket["key"].split("\t", 3)
        found[int(record_id)] = {"item": {"id": int(record_id), "kind": kind, "name": name, "country": country or None},
                                 "links": []}
    for bucket in answer[EDGES]["buckets"]:
        record_id, linked, role = bucket["key"].split("\t")
        found[int(record_id)]["links"].append({"id": int(linked), "role": role or None})
    return found


def _record(doc) -> dict:
    return {"item": fastjson.loads(doc.get_first("item")), "links": fastjson.loads(doc.get_first("links") or b"[]")}


def _cell_key(item: dict, level: int) -> int:
    """The key of the record's cell at `level`, as indexed (the cell fields are not stored)."""
    latitude, longitude = float(item["latitude"]), float(item["longitude"])
    if level < len(CELL_FIELDS):
        return tiles.tile_key(latitude, longitude, level)
    return tiles.position_key(latitude, longitude)


def _count(searcher, query) -> int:
    """Documents matching `query`, unscored: an aggregation counts without the search's scoring and top-hit
    collection (a third of the time on 100,000 records)."""
    return int(searcher.aggregate(query, {"n": {"value_count": {"field": "id"}}})["n"]["value"])


def _key(value):
    """A bucket's key: text as it is, a number (tantivy answers floats) as an integer."""
    return int(value) if isinstance(value, float) else value


def _filtered(find: Find):
    """What `find` matches, unscored: its words, facets and box."""
    selected = [_any_of(facet, values) for facet, values in find.filters.items()]
    return _matching(_text_query(find, scored=False), *_bbox(find.bbox), *selected)


def _placed(bbox) -> list:
    """Records with a position: the box asks for one already."""
    return [] if bbox is not None else [Query.range_query(SCHEMA, "latitude", FieldType.Float, -90.0, 90.0)]


def _rank(doc) -> int:
    return name_rank(sort_key(doc.get_first("name"), doc.get_first("id")))


def _in_name_order(searcher, query, find: Find, page: list) -> list:
    """The page in exact name order. Tantivy ordered it by `name_rank`, the first 12 letters only; documents
    alike that far may also sit just before or after the page, so every document with the page's first or
    last rank is read, and the page is cut from them in full order (name, then id)."""
    if not page:
        return page
    low, high = _rank(page[0]), _rank(page[-1])
    same = [_rank_is(low)] if low == high else [_rank_is(low), _rank_is(high)]
    ties = searcher.search(_all(query, Query.boolean_query([(Occur.Should, clause) for clause in same])),
                           MAX_TIES, True)
    if ties.count > MAX_TIES:  # thousands of names alike in 12 letters: keep the coarse order
        return page
    tied = [searcher.doc(address) for _, address in ties.hits]
    if low == high:  # the page may lie inside one run of alike names: count what comes before that run
        before = searcher.search(_all(query, Query.range_query(SCHEMA, "name_sort", FieldType.Integer, 0, low,
                                                               include_upper=False)), 1, True).count
    else:  # the run of the first rank ends inside the page, so where it begins follows (no pass over the index)
        before = find.offset + sum(_rank(doc) == low for doc in page) - sum(_rank(doc) == low for doc in tied)
    around = {doc.get_first("id"): doc for doc in page}
    around.update((doc.get_first("id"), doc) for doc in tied)
    ordered = sorted(around.values(), key=lambda doc: sort_key(doc.get_first("name"), doc.get_first("id")))
    start = find.offset - before
    return ordered[start:start + len(page)]


def _rank_is(rank: int):
    return Query.range_query(SCHEMA, "name_sort", FieldType.Integer, rank, rank)


def _terms(searcher, query, facets) -> dict[str, dict[str, int]]:
    answer = searcher.aggregate(query, {facet: {"terms": {"field": facet, "size": FACET_SIZE}} for facet in facets})
    return {facet: {bucket["key"]: bucket["doc_count"] for bucket in answer[facet]["buckets"]} for facet in facets}


def _plain(find: Find, selected: dict) -> list[str]:
    """The facets to count without a selection of their own: they share one pass over the matches."""
    return [facet for facet in find.facets if facet not in selected]


def _all_terms(searcher, query, facets) -> tuple[bool, dict[str, dict[str, int]]]:
    """Whether anything matches `query`, and `_terms` of several facets, in one pass over their shared column."""
    size = FACET_SIZE * len(FACETS)  # the column holds the values of every facet, asked for or not
    buckets = searcher.aggregate(query, {FACET_VALUES: {"terms": {"field": FACET_VALUES, "size": size}}})[
        FACET_VALUES]["buckets"]
    counts = {facet: {} for facet in facets}
    for bucket in buckets:
        facet, _, value = bucket["key"].partition(":")
        if facet in counts:
            counts[facet][value] = bucket["doc_count"]
    return bool(buckets), counts  # a document of the index holds a kind: a match leaves a bucket


def _all(*clauses):
    clauses = [clause for clause in clauses if clause is not None]
    return Query.boolean_query([(Occur.Must, clause) for clause in clauses])


def _matching(*clauses):
    """The same documents as `_all(*clauses, _live())`, for counting: a tombstone holds no text, facet or place,
    so `live` only matters on its own; left out, no count walks its posting list of every document."""
    clauses = [clause for clause in clauses if clause is not None]
    return _all(*clauses) if clauses else _all(_live())


def _live():
    return Query.term_query(SCHEMA, "live", True)


def _any_of(facet: str, values: list[str]):
    return Query.term_set_query(SCHEMA, facet, values)


def _bbox(bbox) -> list:
    if bbox is None:
        return []
    latitude = Query.range_query(SCHEMA, "latitude", FieldType.Float, bbox.min_lat, bbox.max_lat)
    longitudes = [Query.range_query(SCHEMA, "longitude", FieldType.Float, low, high) for low, high in bbox.lon_ranges]
    longitude = longitudes[0] if len(longitudes) == 1 else Query.boolean_query(
        [(Occur.Should, clause) for clause in longitudes])
    return [latitude, longitude]


def _text_query(find: Find, scored: bool = True):
    """Every word must match some field: exactly (ranked by BM25), within its typo budget, or as the prefix
    being typed (both at a constant score, below an exact match). Unscored (for counting), a word's fuzzy
    match alone finds the same documents, its exact match among them; and over every field, it is asked of
    their words together (ALL_TEXT)."""
    if not find.terms:
        return None
    fields = (ALL_TEXT,) if not scored and set(find.fields) == set(FIELDS) else find.fields
    words = []
    for term, budget, prefix in find.terms:
        alternatives = []
        for name in fields:
            weight = FIELDS.get(name, 1.0)
            if scored or not (budget or prefix):
                alternatives.append(Query.boost_query(Query.term_query(SCHEMA, name, term), 2 * weight))
            if budget or prefix:
                fuzzy = Query.fuzzy_term_query(SCHEMA, name, term, budget, True, prefix)
                alternatives.append(Query.boost_query(fuzzy, weight))
        words.append(alternatives[0] if len(alternatives) == 1 and not scored else
                     Query.boolean_query([(Occur.Should, clause) for clause in alternatives]))
    return _all(*words)
