"""Snippets (text.highlight): the window around the first hit, found by the terms' patterns in text of ASCII words,
a chunk of the text at a time in other text."""
from services.search.text import Terms, highlight

FILLER = "Lorem ipsum dolor sit amet consectetur. " * 40  # 1,600 characters without a hit


def test_a_hit_far_into_a_long_text_is_found_and_marked():
    snippet = highlight(FILLER + "Civic tech in Łódź.", Terms("lodz"))
    assert snippet.startswith("…") and snippet.endswith("Civic tech in <mark>Łódź</mark>.")


def test_the_first_hit_wins_whatever_chunk_it_is_in():
    text = FILLER + "the commons " + FILLER + "commons again"
    snippet = highlight(text, Terms("commons"))
    assert snippet.count("<mark>commons</mark>") == 1 and "again" not in snippet


def test_words_of_a_page_are_judged_once_per_query_and_alike_for_every_text():
    terms = Terms("cooperacio")
    first = highlight("Cultura i cooperació a les Illes Balears.", terms)
    again = highlight("Una cooperació. " + FILLER, terms)
    assert first == "Cultura i <mark>cooperació</mark> a les Illes Balears."
    assert again.startswith("Una <mark>cooperació</mark>.")


def test_no_hit_anywhere_is_none():
    assert highlight(FILLER * 3, Terms("zyzzyva")) is None
    assert highlight("", Terms("zyzzyva")) is None
    assert highlight(FILLER, Terms("")) is None


def test_typos_and_the_prefix_being_typed_are_marked_as_the_index_matches_them():
    assert highlight("Open democracy tools.", Terms("democrazy")) == "Open <mark>democracy</mark> tools."
    assert highlight("Open democracy tools.", Terms("open demo")) == "<mark>Open</mark> <mark>democracy</mark> tools."
    # below 5 letters a word is matched exactly unless it is the last, being typed
    assert highlight("Open democracy tools.", Terms("tool open")) == "<mark>Open</mark> democracy tools."


def test_in_ascii_text_every_word_the_index_would_match_is_marked():
    # transpositions and edits across the pieces the patterns look for, in capitals, beside non-ASCII punctuation
    text = "Tools for SOICAL change \u2013 the scoial economy\u2019s socail, sociall and oscial work."
    assert highlight(text, Terms("social work")) == (
        "Tools for <mark>SOICAL</mark> change \u2013 the <mark>scoial</mark> economy\u2019s <mark>socail</mark>, "
        "<mark>sociall</mark> and <mark>oscial</mark> <mark>work</mark>.")
    # a word the window cuts at its start is judged as it shows, as in any other text
    long_word = "x" * 30 + "democracy"
    snippet = highlight(FILLER[:100] + long_word + " and democracy", Terms("democracy"))
    assert snippet.endswith("and <mark>democracy</mark>") and "<mark>x" not in snippet


def test_a_term_that_folds_to_more_than_letters_finds_its_word_and_breaks_nothing():
    assert highlight("Step (1) first", Terms("⑴")) is None  # "⑴" folds to "(1)", which no ASCII word is
    assert highlight("Step ⑴ first", Terms("⑴")) == "Step <mark>⑴</mark> first"
