"""Text analysis shared by every backend: folding, typo budgets, and highlighted snippets.

Words are runs of letters and digits, lower-cased and folded to ASCII ("Barceló" → "barcelo", "Łódź" →
"lodz"). The folding is tantivy's `ascii_fold`, a port of Lucene's ASCIIFoldingFilter, which Elasticsearch's
`asciifolding` also is: the query side and both indexes agree on what a word is.

A snippet's words are judged against the query's terms in Python, so a text of ASCII words is first searched for
the few words that may match, by a pattern per term (`_candidates`), at the regex engine's speed.
"""
import functools
import html
import itertools
import re

from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

MAX_WORD = 40  # longer "words" are base64 blobs or URLs; indexing them only bloats the term dictionary
WORD = re.compile(r"[^\W_]+")
FOREIGN_LETTER = re.compile(r"[^\W_\x00-\x7f]")  # a letter or digit beyond ASCII (’ or – are no letters)

ANALYZER_NAME = "folded"


def analyzer():
    """The analyzer of every full-text field: words, lower case, ASCII folding."""
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(MAX_WORD))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build()
    )


_ANALYZER = analyzer()


def words(text: str) -> list[str]:
    """The folded words of `text`, in order."""
    return _ANALYZER.analyze(text or "")


@functools.lru_cache(maxsize=100_000)
def fold(word: str) -> str:
    folded = _ANALYZER.analyze(word)
    return folded[0] if folded else ""


def typo_budget(word: str) -> int:
    """Edits a query word may be away from a match: none below 5 letters, 1 from 5, 2 from 9."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


@functools.lru_cache(maxsize=200_000)
def distance(a: str, b: str, limit: int) -> int:
    """Edit distance with adjacent transpositions counting one (as tantivy's and Elasticsearch's fuzzy
    queries count), or limit + 1 as soon as it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def matches(word: str, term: str, prefix: bool) -> bool:
    """Whether an indexed `word` matches a query `term` under the typo budget (and as a prefix if typed last)."""
    return _matches(word, term, typo_budget(term), prefix, frozenset(term))


def _matches(word: str, term: str, budget: int, prefix: bool, letters: frozenset) -> bool:
    if not budget:
        return word.startswith(term) if prefix else word == term
    if prefix and len(word) > len(term):
        # as you type: the word's beginning, allowing for the typos the typed part may carry
        start = word[:len(term) + budget]
        if len(letters.difference(start)) > budget:  # each edit brings in at most one letter: cheap to rule out
            return False
        return any(distance(word[:n], term, budget) <= budget for n in range(len(term) - budget, len(term) + budget + 1)
                   if n > 0)
    if abs(len(word) - len(term)) > budget or len(letters.difference(word)) > budget:
        return False
    return distance(word, term, budget) <= budget


class Terms:
    """The words of a query, with the last one matched as a prefix while the user types."""

    def __init__(self, q: str):
        self.terms = words(q)[:10]  # ten words are plenty; more only makes a query slower
        # the words of this query's snippets, as they appear in the text, judged once each per query
        self._judged: set[str] = set()
        self._hits: set[str] = set()
        self._plan = None
        self._candidates: list[re.Pattern] | None = None

    def __bool__(self):
        return bool(self.terms)

    def __iter__(self):
        """(term, typo budget, matched as prefix)"""
        last = len(self.terms) - 1
        for i, term in enumerate(self.terms):
            yield term, typo_budget(term), i == last

    def first_hit(self, found: list[str]) -> int | None:
        """Where in `found` (a text's words as they appear) the first word that matches a term is. A page's
        texts share most of their words: each is judged once per query, then looked up in a set."""
        judged, hits, judge = self._judged, self._hits, self._judge
        for position, word in enumerate(found):
            if word in hits:
                return position
            if word not in judged:
                judged.add(word)
                if judge(word):
                    hits.add(word)
                    return position
        return None

    def candidates(self) -> list[re.Pattern]:
        """Each term's pattern of the words that may match it (see `_candidates`)."""
        if self._candidates is None:
            self._candidates = [_candidates(term, budget) for term, budget, _prefix in self]
        return self._candidates

    def hit(self, word: str) -> bool:
        if word not in self._judged:
            self._judged.add(word)
            if self._judge(word):
                self._hits.add(word)
        return word in self._hits

    def _judge(self, word: str) -> bool:
        if self._plan is None:  # each term's rule, worked out once per query
            self._plan = [(term, budget, prefix, frozenset(term), len(term) - budget,
                           1 << 30 if prefix else len(term) + budget) for term, budget, prefix in self]
        length = len(folded := fold(word))
        for term, budget, prefix, letters, shortest, longest in self._plan:
            # no rule matches a word outside these lengths (nor an empty one: a term has a letter past its budget)
            if shortest <= length <= longest and _matches(folded, term, budget, prefix, letters):
                return True
        return False


def highlight(text: str, terms: Terms, width: int = 180) -> str | None:
    """An HTML snippet of `text` around its first hit: everything escaped, hits inside <mark>.
    None when no word of `text` matches."""
    if not text or not terms:
        return None
    ascii_words = text.isascii() or not FOREIGN_LETTER.search(text)
    first = _first_hit(text, terms, ascii_words)
    if first is None:
        return None
    start = max(0, first - width // 3)
    if start:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.find(" ", end)
        end = space if 0 <= space < end + 20 else end
    out, cursor = [], start
    for a, b in _hits(text, start, end, terms, ascii_words):  # only the window is marked: long texts cost no more
        out.append(html.escape(text[cursor:a]))
        out.append(f"<mark>{text[a:b]}</mark>")  # letters and digits only: nothing to escape
        cursor = b
    out.append(html.escape(text[cursor:end]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")


def _hits(text: str, start: int, end: int, terms: Terms, ascii_words: bool) -> list[tuple[int, int]]:
    """Where the words of text[start:end] that match a term are, in order; a word cut by the window's edge is judged
    as it shows. Text of ASCII words: only the words the terms' patterns find are judged (see `_candidates`)."""
    hit = terms.hit
    if not ascii_words:
        return [match.span() for match in WORD.finditer(text, start, end) if hit(match.group())]
    spans = set()
    edge = WORD.match(text, start, end)  # perhaps the end of a word the window cuts: no pattern finds it
    if edge and hit(edge.group()):
        spans.add(edge.span())
    for pattern in terms.candidates():
        for candidate in pattern.finditer(text, start, end):
            word = WORD.match(text, candidate.start(), end)
            if hit(word.group()):
                spans.add(word.span())
    return sorted(spans)


def _first_hit(text: str, terms: Terms, ascii_words: bool, chunk: int = 300) -> int | None:
    """Where the first word of `text` that matches a term begins. Text of ASCII words (most): only the words the
    terms' patterns find are judged, the others are passed over at the regex engine's speed. Other text: read a
    chunk at a time (cut at a space, which no word holds), each word judged; a long text is rarely read to its end."""
    if ascii_words:
        first = None
        for pattern in terms.candidates():  # each term's first hit, before the first hit found so far
            for candidate in pattern.finditer(text, 0, len(text) if first is None else first):
                if terms.hit(WORD.match(text, candidate.start()).group()):
                    first = candidate.start()
                    break
        return first
    begin = 0
    while begin < len(text):
        end = text.find(" ", begin + chunk)
        end = len(text) if end < 0 else end
        position = terms.first_hit(WORD.findall(text, begin, end))
        if position is not None:
            return next(itertools.islice(WORD.finditer(text, begin, end), position, None)).start()
        begin = end
    return None


@functools.lru_cache(maxsize=2_000)  # compiling one costs more than using it on a page's descriptions
def _candidates(term: str, budget: int) -> re.Pattern:
    """Finds in text of ASCII words (where a word's folded form is its lower case) the beginning of every word that
    may match `term`, and of few others: a word within `budget` edits of it holds one of 2 × budget + 1 pieces of
    the term untouched (an edit spoils at most two: a transposition across pieces), at most `budget` letters from
    the piece's place in the term. Only a necessary condition: each word found is still judged. A match begins with
    a letter or digit: a term may hold other characters ("⑴" folds to "(1)"), and no word begins with those."""
    count = 2 * budget + 1  # a term with a budget has at least 2 × budget + 1 letters: no piece is empty
    bounds = [len(term) * i // count for i in range(count + 1)]
    pieces = [rf"[^\W_]{{{max(0, a - budget)},{a + budget}}}{re.escape(term[a:b])}" for a, b in zip(bounds, bounds[1:])]
    return re.compile(rf"(?<![^\W_])(?=[^\W_])(?:{'|'.join(pieces)})", re.ASCII | re.IGNORECASE)


def excerpt(text: str, width: int = 180) -> str:
    """The escaped beginning of `text`, for results whose hit is not in the text."""
    if len(text) <= width:
        return html.escape(text)
    cut = text.rfind(" ", 0, width)
    return html.escape(text[: cut if cut > width // 2 else width]) + "…"
