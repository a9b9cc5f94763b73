"""The join form's place and organisations, from what a visitor sends (no service needed)."""
from werkzeug.datastructures import MultiDict

from gateway.site import forms


def test_a_city_places_the_entry_and_fills_in_its_country():
    body = forms.place({"city": "Gdańsk"}, MultiDict())
    assert body["country"] == "PL" and abs(body["latitude"] - 54.35) < 0.05 and abs(body["longitude"] - 18.65) < 0.05


def test_a_moved_point_is_kept_only_for_the_city_it_was_placed_at():
    moved = {"city": "Gdańsk", "country": "PL", "latitude": "54.4", "longitude": "18.7"}
    kept = forms.place(moved, MultiDict({forms.PLACED_FOR: forms.placed_for(moved)}))
    assert (kept["latitude"], kept["longitude"]) == ("54.4", "18.7")
    elsewhere = forms.place({**moved, "city": "Kraków"}, MultiDict({forms.PLACED_FOR: forms.placed_for(moved)}))
    assert abs(elsewhere["latitude"] - 50.06) < 0.05  # a new city: placed again
    typed = forms.place(moved, MultiDict())  # coordinates without the preview's say-so are not taken
    assert abs(typed["latitude"] - 54.35) < 0.05


def test_an_unknown_city_leaves_the_entry_unplaced():
    body = forms.place({"city": "Qwxzville", "country": "PL", "latitude": "1", "longitude": "2"}, MultiDict())
    assert "latitude" not in body and "longitude" not in body and body["country"] == "PL"


def test_organisations_are_named_once_each_and_split_into_links_and_new_ones():
    form = MultiDict([("organisation", " Waag Society "), ("organisation", ""), ("organisation", "New Lab"),
                      ("organisation", "waag society")])
    names = forms.organisation_names(form)
    assert names == ["Waag Society", "New Lab"]
    links, new = forms.split_organisations(names, {"Waag Society": {"id": 4, "name": "Waag Society"}})
    assert links == [{"id": 4, "role": "partner"}] and new == ["New Lab"]
