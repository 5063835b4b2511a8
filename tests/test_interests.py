from syncd.interests import common_ground, extract, hashtags, marker_values, normalise, normalise_synonyms
from syncd.model import Contact


def contact(**fields):
    return Contact(uid="u", name="N", source="s", **fields)


def test_normalise_nfkc_casefold_spaces():
    assert normalise("  Machine   Learning ") == "machine-learning"
    assert normalise("#Vela") == "vela"
    assert normalise("ＳＡＩＬＩＮＧ") == "sailing"  # full-width letters, NFKC
    assert normalise("Straße") == "strasse"


def test_hashtags_unicode_digits_dash_underscore_but_not_urls():
    text = "Ama la #vela e la #storia-romana, #città_2 (#jazz) https://x.org/#top C#"
    assert hashtags(text) == ["vela", "storia-romana", "città_2", "jazz"]


def test_marker_lines_are_comma_lists_case_insensitive():
    note = "Met at a fair.\ninterests: sailing, Leadership ,history of science\nInteressi: vela"
    assert marker_values(note, ["Interests", "Interessi"]) == [
        " sailing", " Leadership ", "history of science", " vela"
    ]
    assert marker_values("Hobbies: x", ["Interests"]) == []


def test_extract_from_every_place_with_synonyms_deduplicated():
    person = contact(
        note="Loves #Vela.\nInterests: ML, sailing",
        categories=("close-friends",),
        declared_interests=("rock climbing",),
    )
    synonyms = normalise_synonyms({"vela": "sailing", "ML": "Machine Learning"})
    assert extract(person, ["Interests"], synonyms) == (
        "sailing", "machine-learning", "close-friends", "rock-climbing"
    )


def test_common_ground_keeps_contact_order():
    assert common_ground(("history", "sailing", "jazz"), ("sailing", "history")) == (
        "history", "sailing"
    )
