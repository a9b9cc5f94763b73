"""The search domain: applying the directory's and content's events, answering queries and suggestions,
rebuilding and checking against both owners.

Plain Python over a backend (see backends/); nothing here knows nameko.
"""
import functools
import itertools
import time
from collections import Counter
from typing import Callable, Iterator

from dsi import countries, kinds, vocab

from .backends import Backend, Find, Found
from .models import FACETS, content_document, content_key, content_tombstone, document, is_content_key, tombstone
from .schemas import SearchParams
from .text import Terms, distance, excerpt, highlight, words

EXPORT_PAGE = 500
SUGGEST_POOL = 40  # the index's best name matches, re-ranked for suggestions
DID_YOU_MEAN_POOL = 50  # documents whose words are candidates for a correction

Export = Callable[[int, int], dict]  # (after_id, limit) → {"items": [...], "next_after": id | None}


@functools.lru_cache(maxsize=4096)  # every search labels every value (250 countries): look each up once
def facet_label(facet: str, value: str) -> str:
    if facet == "kind":
        return kinds.BY_NAME[value].label_one if value in kinds.BY_NAME else value
    if facet == "country":
        return countries.name(value)
    if facet == "cluster":
        return vocab.label("social_areas", value)
    return vocab.label(facet, value)


class SearchEngine:
    def __init__(self, backend: Backend):
        self.backend = backend

    # --- events ------------------------------------------------------------------------------------------------

    def record_published(self, record: dict) -> bool:
        """Index a record's public version unless the index holds the same or a newer one."""
        return self.backend.upsert(document(record))

    def live_documents(self) -> int:
        return self.query(SearchParams(per_page=1))["total"]

    def record_unpublished(self, record_id: int, version: int) -> bool:
        """Make a record unsearchable unless a newer version was published since."""
        return self.backend.upsert(tombstone(record_id, version))

    def content_published(self, item: dict) -> bool:
        """Index a content item's public version (published or updated) unless the index holds a newer one."""
        return self.backend.upsert(content_document(item))

    def content_unpublished(self, item_id: int, version: int) -> bool:
        """Make an item unsearchable (unpublished or archived) unless a newer version was published since."""
        return self.backend.upsert(content_tombstone(item_id, version))

    # --- queries -----------------------------------------------------------------------------------------------

    def query(self, params: SearchParams) -> dict:
        terms = Terms(params.q)
        find = Find(
            terms=terms,
            filters=params.filters,
            bbox=params.bbox,
            sort=params.sort,
            offset=(params.page - 1) * params.per_page,
            limit=params.per_page,
            facets=FACETS,
        )
        found, did_you_mean = self.backend.together(lambda: self._find_or_correct(find))
        return {
            "items": [self._item(hit, terms) for hit in found.hits],
            "total": found.total,
            "page": params.page,
            "per_page": params.per_page,
            "facets": self._facets(found.facets, params.filters),
            "did_you_mean": did_you_mean,
        }

    def _find_or_correct(self, find: Find) -> tuple[Found, str | None]:
        """What `find` finds, and on zero hits, what was perhaps meant: the searches of one query, together."""
        found = self.backend.find(find)
        return found, self.did_you_mean(find) if found.total == 0 and find.terms else None

    def suggest(self, q: str, limit: int = 8) -> list[dict]:
        """Names for what is typed so far: the index's best matches, names that begin with the typed words
        first, then names holding them without a typo, then the rest; shorter names before longer."""
        terms = Terms(q)
        if not terms:
            return []
        found = self.backend.find(Find(terms=terms, fields=("name",), limit=max(limit, SUGGEST_POOL)))
        ranked = sorted(found.hits, key=lambda hit: _suggest_rank(hit["name"], terms))
        return [{"id": hit["item"]["id"], "kind": hit["item"]["kind"], "name": hit["name"],
                 "url": hit["item"].get("url")} for hit in ranked[:limit]]

    def did_you_mean(self, find: Find) -> str | None:
        """On zero hits: each word that finds nothing replaced by the nearest word of the index, offered only
        if the corrected query finds something."""
        corrected = []
        for term, _budget, _prefix in find.terms:
            alone = Terms(term)
            # a query of this one word and no box is the search that just found nothing: not asked again
            asked = find.bbox is None and alone.terms == find.terms.terms
            if not asked and self.backend.find(Find(terms=alone, limit=0, filters=find.filters)).total:
                corrected.append(term)
                continue
            nearest = self._nearest_word(term)
            if nearest is None:
                return None
            corrected.append(nearest)
        suggestion = " ".join(corrected)
        if suggestion == " ".join(term for term, _, _ in find.terms):
            return None
        check = Find(terms=Terms(suggestion), filters=find.filters, bbox=find.bbox, limit=0)
        return suggestion if self.backend.find(check).total else None

    def _nearest_word(self, term: str) -> str | None:
        """A word of the index at most 2 edits from `term` with the same first letter (the rule of Lucene's
        spell checker: a first letter is rarely mistyped), the closest, then the most common, of the words
        of the documents that hold such neighbours."""
        loose = Find(terms=_Loose(term), fields=("name", "description"), limit=DID_YOU_MEAN_POOL)
        seen = Counter()
        for hit in self.backend.find(loose).hits:
            seen.update({word for word in words(f"{hit['name']} {hit['description']}") if word[0] == term[0]})
        # a word of another length by more than 2 is more than 2 edits away: not measured
        candidates = [(distance(word, term, 2), -count, word) for word, count in seen.items()
                      if word != term and abs(len(word) - len(term)) <= 2]
        best = min((candidate for candidate in candidates if candidate[0] <= 2), default=None)
        return best[2] if best else None

    def _item(self, hit: dict, terms: Terms) -> dict:
        item = dict(hit["item"])
        text = hit["description"]
        if text:
            item["snippet"] = highlight(text, terms) or excerpt(item.get("short_description") or text)
        else:  # no description: where it is, which is often what matched
            place = ", ".join(filter(None, (item.get("city"), item.get("country_name"))))
            item["snippet"] = highlight(place, terms) or excerpt(place)
        return item

    def _facets(self, counts: dict[str, dict[str, int]], selected: dict[str, list[str]]) -> dict[str, list[dict]]:
        facets = {}
        for facet in FACETS:
            values = dict(counts.get(facet, {}))
            for value in selected.get(facet, []):  # a chosen value stays visible (and removable) at zero
                values.setdefault(value, 0)
            entries = [{"value": value, "label": facet_label(facet, value), "count": count}
                       for value, count in values.items()]
            facets[facet] = sorted(entries, key=lambda entry: (-entry["count"], entry["label"]))
        return facets

    # --- consistency -------------------------------------------------------------------------------------------

    def rebuild(self, export: Export, content_export: Export | None = None) -> dict:
        """A new index from the directory's published records and (when given) content's published items."""
        started = time.monotonic()
        documents = (document(record) for record in published_records(export))
        if content_export is not None:
            documents = itertools.chain(documents, (content_document(item)
                                                    for item in published_records(content_export)))
        count = self.backend.rebuild(documents)
        return {"documents": count, "seconds": round(time.monotonic() - started, 3), "backend": self.backend.name}

    def check(self, export: Export, fix: bool = False, content_export: Export | None = None) -> dict:
        """Compare the index with the directory's published set (and content's, under "content"); with `fix`,
        bring the index in line."""
        indexed = self.backend.live_versions()
        records = {key: version for key, version in indexed.items() if not is_content_key(key)}
        result = self._compare(published_records(export), records, lambda record: record["id"], document,
                               tombstone, fix)
        in_sync = result["in_sync"]
        if content_export is not None:
            items = {key: version for key, version in indexed.items() if is_content_key(key)}
            result["content"] = self._compare(published_records(content_export), items,
                                              lambda item: content_key(item["id"]), content_document,
                                              tombstone, fix)
            in_sync = in_sync and result["content"]["in_sync"]
            result["fixed"] += result["content"]["fixed"]
        result["in_sync"] = in_sync
        return result

    def _compare(self, published_things, indexed: dict[int, int], key_of, to_document, to_tombstone,
                 fix: bool) -> dict:
        """One owner's published set against its part of the index. Reported ids are the owner's own."""
        missing, stale, fixed = [], [], 0
        published = {}
        for thing in published_things:
            key = key_of(thing)
            published[key] = thing["id"]
            held = indexed.get(key)
            if held is None or held < thing["version"]:
                (missing if held is None else stale).append(thing["id"])
                if fix:
                    fixed += self.backend.upsert(to_document(thing))
        extra_keys = sorted(set(indexed) - set(published))
        if fix:
            for key in extra_keys:  # unpublished while no event reached us: a tombstone one version up
                fixed += self.backend.upsert(to_tombstone(key, indexed[key] + 1))
        return {
            "published": len(published),
            "indexed": len(indexed),
            "missing": missing,
            "stale": stale,
            "extra": [key - content_key(0) if is_content_key(key) else key for key in extra_keys],
            "fixed": fixed,
            "in_sync": not (missing or stale or extra_keys),
        }


class _Loose(Terms):
    """A single word with the widest typo budget, for finding what a misspelt word might have meant."""

    def __init__(self, term: str):
        super().__init__("")
        self.terms = [term]

    def __iter__(self):
        yield self.terms[0], 2, False


def _suggest_rank(name: str, terms: Terms) -> tuple:
    """Sort key of a suggestion: 0 when the name begins with the typed words, 1 when it holds each of them
    as typed (the last as a prefix), 2 for typo matches; then where the first typed word occurs; then length."""
    typed = list(terms)
    name_words = words(name)
    begins = len(name_words) >= len(typed) and all(
        _as_typed(word, term, prefix) for word, (term, _, prefix) in zip(name_words, typed))
    holds = all(any(_as_typed(word, term, prefix) for word in name_words) for term, _, prefix in typed)
    term, _, prefix = typed[0]
    first = next((i for i, word in enumerate(name_words) if _as_typed(word, term, prefix)), len(name_words))
    return (0 if begins else 1 if holds else 2, first, len(name), name.lower())


def _as_typed(word: str, term: str, prefix: bool) -> bool:
    return word.startswith(term) if prefix else word == term


def published_records(export: Export) -> Iterator[dict]:
    """Every published record (or item) from an owner's paged export."""
    after = 0
    while after is not None:
        page = export(after, EXPORT_PAGE)
        yield from page["items"]
        after = page["next_after"]
