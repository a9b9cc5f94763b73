"""Unit tier: the pieces of the website that need no broker (catalogues, search page state, CSRF tokens)."""
import eventlet
import pytest
from babel.messages.pofile import read_po
from jinja2.runtime import new_context
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from dsi.errors import Forbidden
from gateway.common import csrf, http, i18n, templating
from gateway.site import forms, views
from gateway.site.content import page_links
from gateway.translations import catalogues


def test_catalogues_hold_every_string_of_the_templates():
    """Fails when a template gains a string that `python -m gateway.translations.catalogues` did not extract."""
    wanted = {message.id for message in catalogues.template() if message.id}
    with catalogues.POT.open("rb") as source:
        assert {message.id for message in read_po(source) if message.id} == wanted
    for lang in i18n.LANGUAGES:
        if lang == i18n.DEFAULT:
            continue
        catalog = catalogues.read(catalogues.HERE / lang / "LC_MESSAGES" / "messages.po", lang)
        held = {message.id for message in catalog if message.id and not message.fuzzy}
        assert wanted <= held, (lang, wanted - held)
        problems = [(message.id, errors) for message, errors in catalog.check()]
        assert not problems, (lang, problems)  # e.g. a placeholder lost in translation


def test_a_string_missing_from_a_catalogue_falls_back_to_english():
    assert i18n.gettext("pl", "Join the network") == "Dołącz do sieci"
    assert i18n.gettext("pl", "A string nobody translated") == "A string nobody translated"
    assert i18n.ngettext("pl", "%(num)s result", "%(num)s results", 5) == "%(num)s wyników"


@pytest.mark.parametrize("path, expected", [
    ("/pl/search", ("pl", "/search")), ("/pl/", ("pl", "/")), ("/search", ("en", "/search")),
    ("/", ("en", "/")), ("/plx/a", ("en", "/plx/a")),
])
def test_language_prefix(path, expected):
    assert i18n.split_path(path) == expected
    assert i18n.localised(expected[0], expected[1]) == (path if path.startswith("/pl/") else expected[1])


def test_search_state_round_trips_through_the_url():
    state = views.search_state(MultiDict([("q", " care "), ("country", "ES,PL"), ("country", "ES"),
                                          ("social_areas", "health-and-care"), ("page", "3"), ("sort", "bogus")]))
    assert state == {"q": "care", "filters": {"country": ["ES", "PL"], "social_areas": ["health-and-care"]},
                     "sort": "relevance", "page": 3}
    assert views.state_url("/search", state) == \
        "/search?q=care&country=ES&country=PL&social_areas=health-and-care&page=3"
    assert views.state_url("/search", state, filters=views.without(state, "country", "ES"), page=1) == \
        "/search?q=care&country=PL&social_areas=health-and-care"
    assert views.search_state(MultiDict([("page", "-1")]))["page"] == 1


def test_chosen_values_stay_visible_to_be_unticked():
    state = views.search_state(MultiDict([("country", "PL")]))
    result = {"items": [], "total": 0, "facets": {"country": []}, "did_you_mean": None}
    view = views.search_view("de", "/de/search", state, result)
    [facet] = view["facets"]
    assert facet["first"] == [{"value": "PL", "label": "Polen", "count": 0, "checked": True}]
    assert facet["more"] == []
    assert view["chips"][0]["remove_url"] == "/de/search"


def test_a_long_facet_folds_after_eight_values():
    def facet_of(count):
        values = [{"value": f"v{n}", "label": f"v{n}", "count": 1} for n in range(count)]
        state = views.search_state(MultiDict())
        result = {"items": [], "total": 1, "facets": {"technologies": values}}
        [facet] = views.search_view("en", "/search", state, result)["facets"]
        return len(facet["first"]), len(facet["more"])

    assert facet_of(10) == (10, 0)  # folding would hide no more than two values: all shown
    assert facet_of(11) == (8, 3)


def test_form_to_submission_body():
    form = MultiDict([("name", " Lab "), ("tags", "a, b,,"), ("social_areas", "science"), ("latitude", ""),
                      ("email", "x@example.org")])
    body = forms.submission_body("project", form)
    assert body == {"kind": "project", "email": "x@example.org", "name": "Lab", "tags": ["a", "b"],
                    "social_areas": ["science"], "technologies": [], "dsi_focus": []}


def test_field_errors_by_form_field_in_the_pages_language():
    details = {"social_areas.0": "unknown value", "_": "both", "new_organisations.1": "Field required",
               "retry_after": 30}
    assert i18n.field_errors("en", details, {"new_organisations": "organisation"}) == {
        "social_areas": "Please choose from the list.", "_": "both", "organisation": "Please fill in this field."}
    assert i18n.field_errors("pl", details)["new_organisations"] == "Wypełnij to pole."
    assert i18n.field_errors("pl", "not a mapping") == {}


def _request(cookie=None, field=None):
    headers = {"Cookie": f"{csrf.COOKIE}={cookie}"} if cookie else {}
    data = {csrf.FIELD: field} if field else {}
    return Request(EnvironBuilder(method="POST", headers=headers, data=data).get_environ())


def test_csrf_token_must_sign_the_cookie_it_came_with():
    token = csrf.Token(_request())
    field = token.value()
    csrf.check(_request(token.nonce, field))
    for cookie, sent in [(None, field), (token.nonce, None), ("other-nonce", field), (token.nonce, field + "x")]:
        with pytest.raises(Forbidden):
            csrf.check(_request(cookie, sent))


def test_data_labels_are_translated_and_still_escaped():
    from gateway.common.templating import environment
    page = environment.from_string("{{ a|tr }} {{ b|tr }}")
    assert page.render(lang="pl", a="Science", b="<b>Science</b>") == "Nauka &lt;b&gt;Science&lt;/b&gt;"


def test_a_kept_part_is_rendered_again_for_new_inputs_and_in_each_language():
    from gateway.common.templating import environment
    page = environment.from_string('{% kept "counts", stats %}{{ _("Search") }} {{ stats.n }} {{ hit() }}{% endkept %}')
    renders = []

    def hit():
        renders.append(1)
        return len(renders)

    stats = {"n": 1}
    assert page.render(lang="en", stats=stats, hit=hit) == "Search 1 1"
    assert page.render(lang="en", stats=stats, hit=hit) == "Search 1 1"  # the same object: kept
    assert page.render(lang="pl", stats=stats, hit=hit) == "Szukaj 1 2"  # another language: its own rendering
    assert page.render(lang="en", stats={"n": 1}, hit=hit) == "Search 1 3"  # a new version, even if equal
    assert page.render(lang="en", stats={"n": 2}, hit=hit) == "Search 2 4"


def test_option_tags_escape_their_labels_and_mark_the_chosen_value():
    from gateway.common.templating import environment
    picker = environment.from_string("{{ option_tags(choices, chosen) }}")
    choices = (("a&b", "A <b>"), ("c", "C"))
    assert picker.render(choices=choices, chosen="a&b") == ('<option value="a&amp;b" selected>A &lt;b&gt;</option>'
                                                          '<option value="c">C</option>')
    assert picker.render(choices=choices, chosen=["c"]) == ('<option value="a&amp;b">A &lt;b&gt;</option>'
                                                          '<option value="c">C</option>')


def test_choice_tags_escape_names_values_labels_and_counts_and_tick_the_chosen():
    from gateway.common.templating import environment
    boxes = environment.from_string("{{ choice_tags(name, choices) }}")
    choices = [{"value": 'a"&b', "label": "<script>", "count": 3, "checked": True},
               {"value": "c", "label": "C", "count": "7<", "checked": False}]
    expected = ('<label class="choice"><input type="checkbox" name="t&#34;x" value="a&#34;&amp;b" checked> '
                '&lt;script&gt; <span class="count">(3)</span></label>'
                '<label class="choice"><input type="checkbox" name="t&#34;x" value="c"> C '
                '<span class="count">(7&lt;)</span></label>')
    assert boxes.render(name='t"x', choices=choices) == expected
    assert boxes.render(name='t"x', choices=choices) == expected  # the kept parts give the same again
    choices[0]["checked"] = False
    assert ' checked' not in boxes.render(name='t"x', choices=choices)


def test_parts_in_parallel_answer_in_their_order_and_the_first_part_s_error_wins():
    assert http.in_parallel(lambda: 1) == [1]
    assert http.in_parallel(lambda: 1, lambda: 2, lambda: 3) == [1, 2, 3]

    def failing(message):
        def part():
            raise ValueError(message)
        return part

    with pytest.raises(ValueError, match="first"):
        http.in_parallel(failing("first"), failing("last"))
    with pytest.raises(ValueError, match="last"):
        http.in_parallel(lambda: 1, failing("last"))


def test_a_part_s_error_in_its_own_green_thread_writes_no_traceback_of_eventlet_s(capfd):
    """The caller answers for the error (a 404, a 503); eventlet printed every spawned part's error besides."""
    def missing():
        raise ValueError("no such record")

    with pytest.raises(ValueError, match="no such record"):
        http.in_parallel(missing, lambda: 1)
    eventlet.sleep(0.01)  # the hub runs what it had left of the part's thread
    assert "Traceback" not in capfd.readouterr().err


def test_a_cards_snippet_keeps_only_marks_and_is_left_out_when_it_only_repeats_the_place():
    snippet = templating._card_snippet
    place = {"city": "Łódź", "country_name": "Poland"}
    assert snippet({**place, "snippet": "Civic &amp; <mark>open</mark> data"}) == "Civic &amp; <mark>open</mark> data"
    assert snippet({**place, "snippet": "<mark>Łódź</mark>, Poland"}) == ""  # the card shows its place already
    assert snippet({**place, "snippet": "a <script>alert(1)</script> <mark>b</mark>"}) == "a  <mark>b</mark>"
    assert snippet({**place, "snippet": ""}) == "" and snippet(place) == ""


def test_record_cards_escape_what_records_say_and_link_in_the_pages_language():
    hostile = {"kind": "organisation", "id": 7, "name": '<b onmouseover="x">Name</b>', "city": "<i>Town</i>",
               "country": "PL", "country_name": "Poland", "short_description": "a < b & \"c\""}
    content = {"kind": "story", "id": 3, "url": '/stories/a"b', "name": "Story", "snippet": "Open <mark>data</mark>"}
    context = new_context(templating.environment, "test", {}, {"lang": "pl"})
    cards = templating._record_cards(context, [hostile, content])
    assert '&lt;b onmouseover=&#34;x&#34;&gt;Name&lt;/b&gt;' in cards and "<b " not in cards
    assert '<p class="place">&lt;i&gt;Town&lt;/i&gt;, Polska</p>' in cards
    assert "<p>a &lt; b &amp; &#34;c&#34;</p>" in cards
    assert 'href="/pl/organisations/7"' in cards and 'href="/pl/stories/a&#34;b"' in cards
    assert '<p class="snippet">Open <mark>data</mark></p>' in cards
    assert cards.count('<li class="card">') == 2 and cards.count("</li>") == 2


def test_a_content_lists_page_links_keep_its_filters_encoded_and_exist_only_where_there_is_a_page():
    filters = {"cluster": "health-and-care", "month": "2027-01", "category": "a&b=c é", "page": 2}
    links = page_links("/pl/events", filters, 2, 3)
    assert links["previous_url"] == "/pl/events?cluster=health-and-care&month=2027-01&category=a%26b%3Dc+%C3%A9&page=1"
    assert links["next_url"] == "/pl/events?cluster=health-and-care&month=2027-01&category=a%26b%3Dc+%C3%A9&page=3"
    assert page_links("/stories", {"page": 1}, 1, 1) == {"previous_url": None, "next_url": None}
    assert page_links("/stories", {"page": 1}, 1, 2) == {"previous_url": None, "next_url": "/stories?page=2"}
